"""API routes for datasets."""

from ninja import Router

router = Router(tags=["datasets"])
