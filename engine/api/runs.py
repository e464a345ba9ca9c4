"""API routes for runs."""

from ninja import Router

router = Router(tags=["runs"])
