"""One page of a list, the same way on every list route of /api/v1.

Every list answers the envelope `{items, count, next}`: `items` is the page, `count` the number
of items the whole list holds (with the same filters), and `next` the relative URL of the next
page, or null on the last one. A client reads on by following `next` until it is null.

`limit` is 1 to 200 (default 25, the runs table's page): a larger one is refused with 422
rather than silently cut, so a client never mistakes a short page for the end of the list.
`offset` is 0 or more. The run events route pages by cursor instead (`after` a sequence
number), in the same envelope.

Each list has its own named schema in the OpenAPI document (`PagedRunOut`, ...), made by
`paged()`; every queryset paginated here is ordered with a unique tiebreak (the primary key),
so consecutive pages neither repeat nor skip an item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field, create_model

from pycaret_studio.schemas import MAX_INT64

# A default page costs what the pages' tables do: a run serializes to about 1.2 KB of JSON,
# and at 50 a page the API's runs list cost 1.9 times the 10-run page of a small experiment.
LIMIT_DEFAULT = 25
LIMIT_MAX = 200

LIMIT_DESCRIPTION = (
    f"How many items to return: 1 to {LIMIT_MAX} (default {LIMIT_DEFAULT}). "
    f"More than {LIMIT_MAX} is refused with 422, not cut short."
)


class PageQuery(Schema):
    """`?limit=&offset=` of every list route."""

    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description=LIMIT_DESCRIPTION)
    offset: int = Field(
        0, ge=0, le=MAX_INT64, description="How many items of the list to skip (default 0)."
    )


@cache
def paged(item: type) -> type[Schema]:
    """The named envelope schema of a list of `item`: `Paged<ItemName>`."""
    name = f"Paged{item.__name__}"
    return create_model(
        name,
        __base__=Schema,
        __doc__=f"One page of a list of {item.__name__}; follow `next` for the rest.",
        items=(list[item], Field(..., description="This page's items, in the list's order.")),
        count=(
            int,
            Field(..., ge=0, description="How many items the whole list holds (every page)."),
        ),
        next=(
            str | None,
            Field(
                ...,
                description="The relative URL of the next page, or null on the last page.",
            ),
        ),
    )


def page_url(request, **params: Any) -> str:
    """The request's own path and query, with `params` set (the other parameters kept)."""
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = str(value)
    return f"{request.path}?{query.urlencode()}"


def paginate(
    request,
    rows: QuerySet | list,
    page: PageQuery,
    *,
    to_out: Callable[[Any], Any] | None = None,
) -> dict:
    """`{items, count, next}` for `page` of `rows` (a queryset ordered with a unique tiebreak,
    or a list): one COUNT and one sliced query, whatever the size of the list."""
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    found: Iterable = rows[page.offset : page.offset + page.limit] if page.offset < count else []
    items = [to_out(row) for row in found] if to_out else list(found)
    end = page.offset + page.limit
    return {
        "items": items,
        "count": count,
        "next": page_url(request, offset=end, limit=page.limit) if end < count else None,
    }


# The pages: one Django Page per list, each list with its own query parameter (a page may show
# several lists), swapped on its own by htmx.

PER_PAGE = 20


def page_of(request, rows, *, param: str = "page", per_page: int = PER_PAGE) -> Page:
    """The page `?<param>=` of `rows` (a queryset ordered with a unique tiebreak): one COUNT
    and one sliced query. A missing, bad or too high number shows the nearest page."""
    return Paginator(rows, per_page).get_page(request.GET.get(param))


def template_for(request, template: str, *, fragments: tuple[str, ...], default: str | None):
    """`template#<fragment>` when htmx asks to swap one of `fragments` (the id of the element
    it targets, which is also the name of its partial); else `template#default` for any other
    htmx request (when `default` is given), and the whole `template` for a normal request."""
    if not request.htmx:
        return template
    if request.htmx.target in fragments:
        return f"{template}#{request.htmx.target}"
    return f"{template}#{default}" if default else template
