"""A request id on every request, and JSON for every error under /api/v1.

The API's own handlers answer the errors its views raise. This middleware covers the rest: a
path no route matches (404), a method a route does not take (405), and an exception that escapes
a view wrapper. Each becomes `{"detail", "code"}`, never Django's HTML page or, with DEBUG on,
its traceback page.
"""

import logging
import uuid

from django.http import JsonResponse

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
REQUEST_ID_HEADER = "X-Request-ID"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _json_error(request, response):
    from pycaret_studio.api import STATUS_CODES

    status = response.status_code
    if status == 404:
        detail = f"No such API route: {request.path[:200]}."
    elif status == 405:
        allowed = response.get("Allow", "")
        detail = f"{request.method} is not allowed here; use {allowed or 'another method'}."
    elif status >= 500:
        # Django logged the traceback (without our id) before it built this page.
        logger.error(
            "Server error on %s %s (request_id=%s)",
            request.method,
            request.path,
            request.request_id,
        )
        detail = f"The server hit an unexpected error. Quote request id {request.request_id}."
    else:
        detail = response.reason_phrase or "Error."
    body = {"detail": detail, "code": STATUS_CODES.get(status, "error")}
    if status >= 500:
        body["request_id"] = request.request_id
    replacement = JsonResponse(body, status=status)
    if response.has_header("Allow"):
        replacement["Allow"] = response["Allow"]
    return replacement


class RequestIdMiddleware:
    """Give each request an id, send it back as X-Request-ID, and keep /api/v1 errors JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            response = _json_error(request, response)
        response[REQUEST_ID_HEADER] = request.request_id
        return response

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        from pycaret_studio.api import api

        return api.on_exception(request, exception)


class HtmxMessagesMiddleware:
    """Flash messages of an HTMX request appear in that same response.

    A view that adds a message and answers with a fragment would otherwise leave the message
    for the next full page, where it no longer matches what the user sees. For an HTMX answer
    that swaps content (not a redirect), the pending messages are rendered into the page's
    messages container with an out-of-band swap. A client-side redirect keeps them for the
    page it goes to.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or is_api(request):
            return response
        status = response.status_code
        if response.streaming or status == 204 or 300 <= status < 400:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        if any(h in response for h in ("HX-Redirect", "HX-Location", "HX-Refresh")):
            return response
        from django.contrib.messages import get_messages
        from django.template.loader import render_to_string

        pending = list(get_messages(request))
        if pending:
            response.content += render_to_string(
                "_messages.html", {"messages": pending, "oob": True}, request=request
            ).encode()
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
