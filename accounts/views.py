"""Account pages: login, logout, signup, the workspace switcher and the workspace page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import get_scoped_or_404, permissions_in, visible_workspaces
from accounts.forms import SignupForm
from accounts.middleware import SESSION_KEY
from accounts.models import Membership, Workspace
from accounts.services import user_signup


def signup(request):
    if not settings.STUDIO_SIGNUP_OPEN:
        raise Http404("Signup is closed on this studio.")
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_signup(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data.get("email") or "",
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your personal workspace is ready.")
        return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_POST
def workspace_switch(request):
    workspace = get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=request.POST.get("workspace")
    )
    request.session[SESSION_KEY] = workspace.pk
    messages.info(request, f"Switched to {workspace.name}.")
    return redirect("dashboard")


@login_required
def workspace_detail(request, workspace_id: int):
    workspace = get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
    )
    memberships = Membership.objects.filter(workspace=workspace).select_related("user")
    return render(
        request,
        "accounts/workspace_detail.html",
        {
            "workspace": workspace,
            "memberships": memberships,
            "permissions": permissions_in(request, workspace),
            "workspaces": visible_workspaces(request),
        },
    )
