from django.apps import AppConfig


class CopilotsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "copilots"
