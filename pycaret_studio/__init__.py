"""PyCaret Studio project package; loads the Celery app with Django."""

from pycaret_studio.celery import app as celery_app

__all__ = ("celery_app",)
