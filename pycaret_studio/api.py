"""The JSON API at /api/v1/: one NinjaAPI, each app adds its Router.

Every error it answers is JSON `{"detail", "code", ...}`: the handlers below turn each kind of
exception into that body, and `pycaret_studio/middleware.py` does the same for the errors Django
answers before or around the API's views (unknown paths, methods). The OpenAPI schema documents
them on every route (`pycaret_studio/openapi.py`).
"""

import json
import logging
import uuid

import orjson
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from accounts.auth import API_AUTH
from engine.errors import InvalidInput, StudioError
from pycaret_studio.health import router as health_router
from pycaret_studio.openapi import document_errors

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}
NUL = "\x00"


def _nul_error(where: str) -> InvalidInput:
    return InvalidInput(
        f"{where} contains a NUL character (\\u0000), which the studio does not store.",
        code="nul_character",
    )


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _reject_nul(data, where: str) -> None:
    """422 for a NUL character in any string or key of parsed JSON (PostgreSQL stores none in
    text or jsonb). Iterative, so a deeply nested body cannot exhaust the stack."""
    stack = [(data, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                raise _nul_error(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and NUL in key:
                    raise _nul_error(f"A key of {path}")
                stack.append((item, f"{path}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))


PREDICT_ROUTE = "deployment_predict"


def _is_predict(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name == PREDICT_ROUTE


def _loads(request):
    """The request's JSON body, or a 400 `bad_json`.

    A predict body goes to orjson first, which takes a sixth of json's time on 100 rows. It
    refuses what json handles its own way (UTF-16, a BOM, lone surrogates, NaN, Infinity,
    1e400), and those bodies go to json as before. orjson reads an integer past 64 bits as a
    float, which is how a predict row's number is used anyway; other routes, whose ids and
    options are integers, keep json."""
    if _is_predict(request):
        try:
            return orjson.loads(request.body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(_text(request.body), parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise StudioError("The request body is not valid JSON.", code="bad_json") from exc


def _text(body: bytes) -> str:
    return body.decode(json.detect_encoding(body), "surrogatepass")


class StudioParser(Parser):
    """JSON bodies must be objects; no text input may carry a NUL character."""

    def parse_body(self, request):
        data = _loads(request)
        # Ninja also parses each multipart body field through here, with a bare stand-in
        # request: only the real request's body has to be an object.
        if "REQUEST_METHOD" in request.META and not isinstance(data, dict):
            raise StudioError(
                f"The request body must be a JSON object, not {type(data).__name__}.",
                code="body_not_an_object",
            )
        # JSON can only carry a NUL as the escape \u0000: most bodies need no walk at all.
        # UTF-16 and UTF-32 bodies (the ones with NUL bytes) are searched once decoded.
        body = request.body
        if b"\\u0000" in body or (b"\x00" in body and "\\u0000" in _text(body)):
            _reject_nul(data, "body")
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        where = "query" if data is request.GET else "form"
        for key, value in result.items():
            for item in value if isinstance(value, list) else [value]:
                text = item if isinstance(item, str) else getattr(item, "name", None)
                if isinstance(text, str) and NUL in text:
                    raise _nul_error(f"{where}.{key}")
        return result


class StudioAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_errors(schema)


api = StudioAPI(
    title="PyCaret Studio API",
    version="1",
    urls_namespace="api",
    auth=API_AUTH,
    docs_url="/docs",
    parser=StudioParser(),
)


def plain_json_response(request, body, *, status: int) -> HttpResponse:
    """`api.create_response` for a body of plain JSON data (str, int, float, bool, None, and
    lists and str-keyed dicts of them), rendered by orjson in a tenth of json's time, as the
    predict route's answer is. Anything else (a date, a Decimal) goes through the API's own
    renderer. A float that is not a number is written as null (json would write NaN, which
    is not JSON)."""
    try:
        # Dates and dataclasses are left to the renderer, which writes them its own way.
        content = orjson.dumps(
            body, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
        )
    except TypeError:
        return api.create_response(request, body, status=status)
    return HttpResponse(content, status=status, content_type=api.get_content_type())


def error_response(request, status: int, detail: str, code: str | None = None, **extra):
    body = {"detail": detail, "code": code or STATUS_CODES.get(status, "error"), **extra}
    return api.create_response(request, body, status=status)


def request_id_of(request) -> str:
    """The id `RequestIdMiddleware` gave the request (a fresh one if it did not run)."""
    if not getattr(request, "request_id", None):
        request.request_id = uuid.uuid4().hex
    return request.request_id


def _describe_validation_errors(errors: list[dict]) -> str:
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "payload", "query")]
        where = ".".join(loc)
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "Invalid request."


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    return error_response(
        request, 422, _describe_validation_errors(exc.errors), errors=_jsonable(exc.errors)
    )


def _jsonable(errors: list[dict]) -> list[dict]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg"))} for e in errors]


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc: AuthenticationError):
    # Ninja raises a bare AuthenticationError when no auth class accepted the request.
    detail = exc.message if exc.message != "Unauthorized" else "Authentication required."
    return error_response(request, 401, detail, "unauthorized")


@api.exception_handler(StudioError)
def on_studio_error(request, exc: StudioError):
    return api.create_response(request, exc.body(), status=exc.status)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # Ninja wraps whatever the parser raised in "400 Cannot parse request body".
    if isinstance(exc.__cause__, StudioError):
        return on_studio_error(request, exc.__cause__)
    return error_response(request, exc.status_code, exc.message)


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return error_response(request, 404, str(exc) or "Not found.", "not_found")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc: PermissionDenied):
    return error_response(request, 403, str(exc) or "Forbidden.", "forbidden")


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request, exc: RequestDataTooBig):
    return error_response(request, 413, "The request body is too large.", "too_large")


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc: MultiPartParserError):
    return error_response(
        request, 400, f"The multipart body could not be read: {exc}"[:300], "bad_multipart"
    )


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc: SuspiciousOperation):
    # Too many form fields or files, a file name that escapes its folder, and the like.
    return error_response(request, 400, f"The request was refused: {exc}"[:300], "bad_request")


@api.exception_handler(BadRequest)
def on_bad_request(request, exc: BadRequest):
    return error_response(request, 400, str(exc) or "Bad request.", "bad_request")


@api.exception_handler(UnreadablePostError)
def on_unreadable_body(request, exc: UnreadablePostError):
    return error_response(request, 400, "The request body could not be read.", "bad_request")


@api.exception_handler(Exception)
def on_unexpected_error(request, exc: Exception):
    """A bug or an outage: the traceback goes to the log under the request's id, never to the
    client (whatever DEBUG says), which gets the id to quote."""
    request_id = request_id_of(request)
    logger.error(
        "Unhandled error on %s %s (request_id=%s)",
        request.method,
        request.path,
        request_id,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return error_response(
        request,
        500,
        f"The server hit an unexpected error. Quote request id {request_id} when reporting it.",
        "server_error",
        request_id=request_id,
    )


api.add_router("", health_router)
api.add_router("", "accounts.api.router")
api.add_router("", "engine.api.router")
api.add_router("/llm", "copilots.api.router")
