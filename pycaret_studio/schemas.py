"""Types every API schema shares: bounded ids and counts, capped text, and the error body.

Ids and counts are bounded to the signed 64-bit range the databases store, so a larger number
is a 422 from validation (and says so in the OpenAPI schema) instead of an overflow inside the
database driver. Text fields carry the cap of the column they are stored in.
"""

from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

MAX_INT64 = 2**63 - 1

# An object's id, in a path, a query filter or a body.
Id = Annotated[int, Field(ge=1, le=MAX_INT64)]
# A sequence number or an offset: zero or more.
Count = Annotated[int, Field(ge=0, le=MAX_INT64)]
# A deployment's slug in a path: what a SlugField stores.
SlugPath = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")]
# A run's plot, by the name the run recorded.
PlotName = Annotated[str, Field(min_length=1, max_length=100)]


def Text(max_length: int, *, min_length: int = 0):  # a type, so named like one
    """A string of at most `max_length` characters, the cap of the column it is stored in."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length)]


NAME_MAX = 120  # projects, workspaces, API keys
LONG_NAME_MAX = 200  # datasets, experiments, pipelines
DESCRIPTION_MAX = 2000
COLUMN_NAME_MAX = 255
USERNAME_MAX = 150
EMAIL_MAX = 254


class ErrorOut(Schema):
    """Every error on /api/v1, whatever its status."""

    detail: str = Field(..., description="What went wrong, in a sentence for a person.")
    code: str = Field(..., description="A stable machine code, e.g. not_found, validation_error.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="Validation errors only: each problem, with where it is (loc)."
    )
    request_id: str | None = Field(
        None, description="Server errors only: the id the server logged the error under."
    )

    model_config = {"extra": "allow"}
