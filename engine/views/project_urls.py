"""Page URLs for projects and what hangs off them."""

urlpatterns: list = []
