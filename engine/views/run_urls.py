"""Page URLs for runs and what hangs off them."""

urlpatterns: list = []
