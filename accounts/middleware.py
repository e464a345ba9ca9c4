"""Attach the current workspace to each page request: the one the user last chose in the
navigation switcher, else their own (see `accounts.selectors.workspace_default`)."""

from django.utils.functional import SimpleLazyObject


def current_workspace(request):
    from accounts.selectors import workspace_default

    if not request.user.is_authenticated:
        return None
    return workspace_default(request=request)


class CurrentWorkspaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = SimpleLazyObject(lambda: current_workspace(request))
        return self.get_response(request)
