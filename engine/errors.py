"""The studio's one error type: a message for a person, a machine code and an HTTP status.

Plain Python with no Django import, so the Django-free core (ingest, serving) raises it too.
Services raise it; `pycaret_studio/api.py` turns it into the API's `{"detail", "code", ...}`
body and `pycaret_studio/pages.py` into a page message. Subclasses exist only where a caller
must tell errors apart.
"""

from __future__ import annotations

from typing import Any


class StudioError(Exception):
    """A request that cannot be served as asked. `extra` goes into the JSON body as it is."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code!r})"


class InvalidInput(StudioError):
    """Input that fails validation (422). `fields` maps a field name to its messages and codes,
    so a page form can show each problem next to its field."""

    status = 422
    code = "validation_error"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[tuple[str, str]]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.fields = fields or {}


class Conflict(StudioError):
    """The object is in a state that does not allow the operation (409)."""

    status = 409
    code = "conflict"


class TooLarge(StudioError):
    status = 413
    code = "too_large"
