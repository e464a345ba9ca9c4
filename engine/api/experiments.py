"""API routes for experiments."""

from ninja import Router

router = Router(tags=["experiments"])
