"""Account pages: login/signup, the workspace switcher, members and personal API keys."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import services
from accounts.access import get_scoped_or_404, permissions_in, visible_workspaces
from accounts.forms import ApiKeyForm, MemberAddForm, MemberRoleForm, SignupForm
from accounts.middleware import SESSION_KEY
from accounts.models import ApiKey, Membership, Workspace
from engine.errors import StudioError
from pycaret_studio.pages import show_error


def signup(request):
    if not settings.STUDIO_SIGNUP_OPEN:
        raise Http404("Signup is closed on this studio.")
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_signup(
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
    workspace = _workspace(request, request.POST.get("workspace"))
    request.session[SESSION_KEY] = workspace.pk
    messages.info(request, f"Switched to {workspace.name}.")
    return redirect("dashboard")


def _workspace(request, workspace_id) -> Workspace:
    return get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
    )


def _members_context(request, workspace: Workspace, **extra) -> dict:
    return {
        "workspace": workspace,
        "memberships": Membership.objects.filter(workspace=workspace).select_related("user"),
        "permissions": permissions_in(request, workspace),
        "add_form": MemberAddForm(),
        "role_choices": MemberRoleForm.base_fields["role"].choices,
        **extra,
    }


def _render_members(request, workspace: Workspace, status: int = 200, **extra):
    template = "accounts/workspace_detail.html"
    if request.htmx:
        template += "#members"
    return render(request, template, _members_context(request, workspace, **extra), status=status)


@login_required
def workspace_detail(request, workspace_id: int):
    return _render_members(request, _workspace(request, workspace_id))


@login_required
@require_POST
def member_add(request, workspace_id: int):
    workspace = _workspace(request, workspace_id)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = services.member_add(
                workspace=workspace,
                identifier=form.cleaned_data["identifier"],
                role=form.cleaned_data["role"],
                request=request,
            )
        except StudioError as exc:
            show_error(request, exc, form=form)
        else:
            messages.success(request, f"Added {membership.user.username} as {membership.role}.")
            return _render_members(request, workspace)
    return _render_members(request, workspace, status=422, add_form=form)


def _membership(request, workspace_id: int, member_id: int) -> Membership:
    workspace = _workspace(request, workspace_id)
    return get_object_or_404(
        Membership.objects.select_related("user", "workspace"), workspace=workspace, pk=member_id
    )


@login_required
@require_POST
def member_role(request, workspace_id: int, member_id: int):
    membership = _membership(request, workspace_id, member_id)
    form = MemberRoleForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.member_change_role(
                membership=membership, role=form.cleaned_data["role"], request=request
            )
        except StudioError as exc:
            error = exc.message
    else:
        error = "Choose a valid role."
    return _render_members(
        request, membership.workspace, status=409 if error else 200, member_error=error
    )


@login_required
@require_POST
def member_remove(request, workspace_id: int, member_id: int):
    membership = _membership(request, workspace_id, member_id)
    try:
        services.member_remove(membership=membership, request=request)
    except StudioError as exc:
        return _render_members(
            request, membership.workspace, status=exc.status, member_error=exc.message
        )
    return _render_members(request, membership.workspace)


def _keys_context(request, **extra) -> dict:
    return {
        "keys": ApiKey.objects.filter(user=request.user).select_related("workspace"),
        "form": ApiKeyForm(workspaces=visible_workspaces(request)),
        **extra,
    }


@login_required
def api_keys(request):
    if request.method == "POST":
        form = ApiKeyForm(request.POST, workspaces=visible_workspaces(request))
        if form.is_valid():
            key, plaintext = services.api_key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                workspace=form.cleaned_data["workspace"],
                expires_in_days=form.cleaned_data["expires_in_days"],
                request=request,
            )
            # The plaintext is rendered into this one response and kept nowhere.
            context = _keys_context(request, new_key=key, plaintext=plaintext)
            template = (
                "accounts/api_keys.html#keys-panel" if request.htmx else "accounts/api_keys.html"
            )
            return render(request, template, context, status=201 if request.htmx else 200)
        context = _keys_context(request, form=form)
        template = "accounts/api_keys.html#keys-panel" if request.htmx else "accounts/api_keys.html"
        return render(request, template, context, status=422)
    template = "accounts/api_keys.html#keys-panel" if request.htmx else "accounts/api_keys.html"
    return render(request, template, _keys_context(request))


@login_required
@require_POST
def api_key_revoke(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id, user=request.user)
    try:
        services.api_key_revoke(key=key, by=request.user, request=request)
    except PermissionDenied:
        raise Http404("No such key.") from None
    messages.success(request, f"Revoked {key.name} ({key.prefix}…).")
    if request.htmx:
        return render(request, "accounts/api_keys.html#key-table", _keys_context(request))
    return redirect("accounts:api_keys")
