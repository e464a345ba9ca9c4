"""Attach the current workspace (chosen in the navigation switcher) to each page request."""

from django.utils.functional import SimpleLazyObject

SESSION_KEY = "workspace_id"


def current_workspace(request):
    from accounts.access import visible_workspaces

    if not request.user.is_authenticated:
        return None
    workspaces = visible_workspaces(request)
    chosen = request.session.get(SESSION_KEY)
    workspace = workspaces.filter(pk=chosen).first() if chosen else None
    return workspace or workspaces.order_by("pk").first()


class CurrentWorkspaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = SimpleLazyObject(lambda: current_workspace(request))
        return self.get_response(request)
