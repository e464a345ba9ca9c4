"""WSGI entry point for gunicorn: Django's handler, and a lean one for API-key requests
(pycaret_studio/key_requests.py)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pycaret_studio.settings")
django.setup(set_prefix=False)

from pycaret_studio.key_requests import StudioWSGIApplication  # noqa: E402

application = StudioWSGIApplication()
