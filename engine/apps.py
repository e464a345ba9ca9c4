from django.apps import AppConfig


class EngineConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "engine"

    def ready(self) -> None:
        from engine import signals  # connects the Celery signal handlers

        signals.connect_model_receivers()
