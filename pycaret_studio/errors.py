"""API errors that carry a machine-readable code next to the human message."""

from ninja.errors import HttpError


class ApiError(HttpError):
    """Raise from an endpoint to answer `{"detail": message, "code": code}` with `status_code`."""

    def __init__(self, status_code: int, message: str, code: str) -> None:
        super().__init__(status_code, message)
        self.code = code
