"""Template context for the navigation's workspace switcher."""

from django.conf import settings


def workspaces(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"signup_open": settings.STUDIO_SIGNUP_OPEN}
    from accounts.access import visible_workspaces

    return {
        "nav_workspaces": list(visible_workspaces(request)),
        "current_workspace": request.workspace or None,
        "signup_open": settings.STUDIO_SIGNUP_OPEN,
    }
