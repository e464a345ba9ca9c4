"""The JSON API at /api/v1/: one NinjaAPI, each app adds its Router."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from accounts.auth import API_AUTH
from engine.errors import StudioError
from pycaret_studio.health import router as health_router

api = NinjaAPI(
    title="PyCaret Studio API",
    version="1",
    urls_namespace="api",
    auth=API_AUTH,
    docs_url="/docs",
)

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
    503: "unavailable",
}


def error_response(request, status: int, detail: str, code: str | None = None, **extra):
    body = {"detail": detail, "code": code or STATUS_CODES.get(status, "error"), **extra}
    return api.create_response(request, body, status=status)


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
    return error_response(request, exc.status_code, exc.message)


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return error_response(request, 404, str(exc) or "Not found.", "not_found")


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request, exc: RequestDataTooBig):
    return error_response(request, 413, "The request body is too large.", "too_large")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc: PermissionDenied):
    return error_response(request, 403, str(exc) or "Forbidden.", "forbidden")


api.add_router("", health_router)
api.add_router("", "accounts.api.router")
api.add_router("", "engine.api.router")
api.add_router("/llm", "copilots.api.router")
