"""What serving raises: the studio's error, with a subclass for each way a request fails."""

from __future__ import annotations

from engine.errors import StudioError


class ServingError(StudioError):
    """A request that cannot be served; carries the HTTP status and a machine code."""

    status = 409
    code = "conflict"


class ArtifactMissing(ServingError):
    code = "artifact_missing"


class ArtifactMismatch(ServingError):
    code = "artifact_mismatch"

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class InputError(ServingError):
    status = 422
    code = "validation_error"


class TooManyRows(ServingError):
    status = 413
    code = "too_large"
