"""Upload size limits, checked from Content-Length before anything reads the request body.

Dataset uploads and batch-scoring uploads share them, on the API and on the pages. Reading
`request.POST` or `request.FILES` (a CSRF check does) spools the whole body to disk first, so
an oversized upload is refused from its headers, and a page checks CSRF by hand afterwards.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware

from engine.errors import TooLarge

MB = 1024 * 1024
# Room for the multipart envelope (boundaries, part headers, a name field) around the file.
MULTIPART_SLACK_BYTES = 64 * 1024


def max_upload_bytes() -> int:
    return settings.STUDIO_MAX_UPLOAD_MB * MB


def too_large_message() -> str:
    return (
        f"The file is larger than this studio's upload limit of "
        f"{settings.STUDIO_MAX_UPLOAD_MB} MB (STUDIO_MAX_UPLOAD_MB)."
    )


def upload_rejected_early(request) -> TooLarge | None:
    """413 from the Content-Length header alone, before anything reads the request body."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_upload_bytes() + MULTIPART_SLACK_BYTES:
        return TooLarge(too_large_message())
    return None


def csrf_failure(request):
    """Django's CSRF check, for a page that runs it by hand once the size is acceptable: the
    403 response when it fails, else None."""
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})


def reject_oversized(view):
    """For an API upload route (`decorate_view`): 413 before authentication or parsing reads
    the body."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        error = upload_rejected_early(request)
        if error is not None:
            from pycaret_studio.api import api

            return api.on_exception(request, error)
        return view(request, *args, **kwargs)

    return wrapper
