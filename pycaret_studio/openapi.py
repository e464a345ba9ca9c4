"""The error responses of every route, added to the OpenAPI schema the routes describe.

Errors never pass through a route's own response models: handlers in `pycaret_studio/api.py`
answer them, for every route alike. So they are documented here, once, by what can answer them:
authentication (401, 403, 429 on every authenticated route), object lookups (404), validation of
parameters and bodies (422), bodies (400 malformed, 413 too large) and state (409) on writes.
"""

from ninja.openapi.schema import REF_TEMPLATE
from ninja.schema import NinjaGenerateJsonSchema

from pycaret_studio.schemas import ErrorOut

ERROR_SCHEMA = "Error"
UNSAFE = {"post", "put", "patch", "delete"}
DESCRIPTIONS = {
    400: "Malformed body: not JSON, not a JSON object, or a broken multipart body.",
    401: "No credentials, or a bad, revoked or expired API key.",
    403: "The role or the API key's scopes do not allow this, or the CSRF token is missing.",
    404: "No such object in the caller's workspaces, or no such route.",
    409: "The object is not in a state that allows this.",
    413: "The body, upload or row count is over a limit.",
    422: "A parameter or a field is invalid (out of range, too long, a NUL character...).",
    429: "Too many requests, failed authentications, or a quota is used up.",
    500: "An unexpected server error; the body carries the request id the server logged.",
}


def _statuses(method: str, operation: dict) -> set[int]:
    statuses = {500}
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if operation.get("security"):
        statuses |= {401, 403, 404, 429}
    if method in UNSAFE:
        statuses |= {400, 409, 413}
    return statuses


def document_errors(schema: dict) -> dict:
    """Add the error responses to each operation of `schema`, sharing one error schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA] = ErrorOut.model_json_schema(
        ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
    )
    components[ERROR_SCHEMA]["title"] = ERROR_SCHEMA
    reference = {"$ref": REF_TEMPLATE.format(model=ERROR_SCHEMA)}
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(method, operation)):
                responses.setdefault(
                    status,
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return schema
