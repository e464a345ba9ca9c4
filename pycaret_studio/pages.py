"""Showing a service's StudioError on a page: the one helper views use."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError

from engine.errors import InvalidInput, StudioError


def show_error(request, exc: StudioError, *, form=None) -> int:
    """Show `exc` where the action happened, and return the status to answer with.

    With a form, each field's messages go next to that field (the rest above the form).
    Without one, a full-page request gets a flash message; an HTMX fragment shows
    `exc.message` itself, where its template puts errors.
    """
    if form is not None:
        fields = exc.fields if isinstance(exc, InvalidInput) and exc.fields else {None: []}
        for field, problems in fields.items():
            errors = [ValidationError(message, code=code) for message, code in problems]
            form.add_error(
                field if field in form.fields else None, errors or ValidationError(exc.message)
            )
    elif not request.htmx:
        messages.error(request, exc.message)
    return exc.status
