"""API routes for projects."""

from ninja import Router

router = Router(tags=["projects"])
