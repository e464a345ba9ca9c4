"""`{% can workspace "permission" as name %}`: show or hide a control with the one permission
check that services enforce (accounts.access.permissions_in)."""

from django import template

from accounts.access import permissions_in

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context, workspace, permission: str) -> bool:
    request = context.get("request")
    return request is not None and permission in permissions_in(request, workspace)
