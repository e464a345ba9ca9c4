"""`{% page_href "datasets_page" 2 %}`: the current URL's query with one page number set."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_href(context, param: str, number: int) -> str:
    """`?<the request's other parameters>&<param>=<number>`, for a list's pager link."""
    query = context["request"].GET.copy()
    query[param] = str(number)
    return f"?{query.urlencode()}"
