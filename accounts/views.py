"""Account pages: login/signup, the workspace switcher, members and invitations, the workspace's
audit log, and personal API keys."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import selectors, services
from accounts.access import get_scoped_or_404, permissions_in, require, visible_workspaces
from accounts.forms import (
    ApiKeyForm,
    AuditFilterForm,
    MemberAddForm,
    MemberRoleForm,
    SignupForm,
)
from accounts.models import ApiKey, Membership, Role, Workspace
from accounts.services.members import may_manage
from engine.errors import StudioError
from pycaret_studio.pages import show_error
from pycaret_studio.pagination import page_of, template_for


def signup(request):
    if not settings.STUDIO_SIGNUP_OPEN:
        raise Http404("Signup is closed on this studio.")
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data.get("email") or "",
                request=request,
            )
        except StudioError as exc:
            show_error(request, exc, form=form)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your personal workspace is ready.")
            return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_POST
def workspace_switch(request):
    workspace = _workspace(request, request.POST.get("workspace"))
    services.workspace_choose(user=request.user, workspace=workspace)
    messages.info(request, f"Switched to {workspace.name}.")
    return redirect("dashboard")


def _workspace(request, workspace_id) -> Workspace:
    return get_scoped_or_404(
        request, Workspace.objects.all(), workspace_field="pk", pk=workspace_id
    )


# Members and the workspace's invitations.


def _members_context(request, workspace: Workspace, **extra) -> dict:
    permissions = permissions_in(request, workspace)
    managing = "manage_members" in permissions
    my_role = selectors.membership_role(workspace=workspace, user=request.user)
    grantable = [(v, label) for v, label in Role.choices if managing and may_manage(my_role, v)]
    members = page_of(
        request,
        selectors.member_list(workspace=workspace).order_by("user__username", "pk"),
        param="members_page",
    )
    rows = [
        {
            "membership": m,
            "is_me": m.user_id == request.user.pk,
            "manageable": managing and m.user_id != request.user.pk and may_manage(my_role, m.role),
        }
        for m in members.object_list
    ]
    pending = selectors.invitation_list_for_workspace(workspace=workspace)
    invitations = page_of(
        request,
        pending.order_by("-created_at", "-id") if managing else pending.none(),
        param="invitations_page",
    )
    add_form = extra.pop("add_form", None) or MemberAddForm()
    add_form.fields["role"].choices = grantable
    return {
        "workspace": workspace,
        "rows": rows,
        "members_page": members,
        "permissions": permissions,
        "invitations": [
            {"invitation": i, "cancellable": may_manage(my_role, i.role)}
            for i in invitations.object_list
        ],
        "invitations_page": invitations,
        "add_form": add_form,
        "role_choices": grantable,
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
    """Invite someone; the notice reads the same whether or not they exist."""
    workspace = _workspace(request, workspace_id)
    form = MemberAddForm(request.POST)
    form.fields["role"].choices = Role.choices
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                workspace=workspace,
                identifier=form.cleaned_data["identifier"],
                role=form.cleaned_data["role"],
                request=request,
            )
        except StudioError as exc:
            status = show_error(request, exc, form=form)
            return _render_members(request, workspace, status=status, add_form=form)
        notice = (
            f"Invitation to “{invitation.identifier}” saved as {invitation.role}. "
            "If that is someone here, they join once they accept it."
        )
        return _render_members(request, workspace, member_notice=notice)
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
    if not form.is_valid():
        return _render_members(
            request, membership.workspace, status=422, member_error="Choose a valid role."
        )
    try:
        services.member_change_role(
            membership=membership, role=form.cleaned_data["role"], request=request
        )
    except StudioError as exc:
        return _render_members(
            request, membership.workspace, status=exc.status, member_error=exc.message
        )
    return _render_members(request, membership.workspace)


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
    if membership.user_id == request.user.pk:
        return _left(request, membership.workspace)
    return _render_members(request, membership.workspace)


def _left(request, workspace: Workspace):
    messages.success(request, f"You left {workspace.name}.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("dashboard"))
    return redirect("dashboard")


@login_required
@require_POST
def workspace_leave(request, workspace_id: int):
    workspace = _workspace(request, workspace_id)
    try:
        services.member_leave(workspace=workspace, request=request)
    except StudioError as exc:
        return _render_members(request, workspace, status=exc.status, member_error=exc.message)
    return _left(request, workspace)


@login_required
@require_POST
def invitation_cancel(request, workspace_id: int, invitation_id: int):
    workspace = _workspace(request, workspace_id)
    invitation = selectors.invitation_in_workspace(workspace=workspace, invitation_id=invitation_id)
    try:
        services.invitation_cancel(invitation=invitation, request=request)
    except StudioError as exc:
        return _render_members(request, workspace, status=exc.status, member_error=exc.message)
    return _render_members(
        request, workspace, member_notice=f"Cancelled the invitation to “{invitation.identifier}”."
    )


# The workspace's audit log: its owners and admins only.

AUDIT_PAGE_SIZE = 50


@login_required
def workspace_audit(request, workspace_id: int):
    """Who did what in the workspace, newest first: filtered by actor, action and days, 50 to a
    page. Another workspace is a 404; a member who does not manage members gets a 403."""
    workspace = _workspace(request, workspace_id)
    require(request, workspace, "manage_members")
    form = AuditFilterForm(
        request.GET,
        actors=selectors.audit_actors(workspace=workspace),
        actions=selectors.audit_actions(workspace=workspace),
    )
    status, filters = 200, {}
    if form.is_valid():
        filters = {
            "actor_id": form.cleaned_data["actor"],
            "action": form.cleaned_data["action"],
            "since": form.cleaned_data["since"],
            "until": form.cleaned_data["until"],
        }
    else:
        status = 422
    events = selectors.audit_list(workspace=workspace, **filters) if status == 200 else []
    page = page_of(request, events, per_page=AUDIT_PAGE_SIZE)
    template = "accounts/audit_log.html"
    if request.htmx:
        template += "#audit-results"
    context = {"workspace": workspace, "form": form, "page": page}
    return render(request, template, context, status=status)


# The invitee's answer, from the dashboard's banner.

INVITATIONS = "accounts/_invitations.html"


def _render_invitations(request, status: int = 200, **extra):
    context = {"invitations": selectors.invitation_list_pending(user=request.user), **extra}
    return render(request, INVITATIONS, context, status=status)


def _answer(request, invitation_id: int, answer):
    invitation = selectors.invitation_for_invitee(user=request.user, invitation_id=invitation_id)
    try:
        notice = answer(invitation)
    except StudioError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("dashboard")
        return _render_invitations(request, status=exc.status, invitation_error=exc.message)
    if not request.htmx:
        messages.success(request, notice)
        return redirect("dashboard")
    # The workspace switcher changes too when a workspace was joined.
    return _render_invitations(request, invitation_notice=notice, switcher_oob=True)


@login_required
@require_POST
def invitation_accept(request, invitation_id: int):
    def accept(invitation):
        membership = services.invitation_accept(invitation=invitation, request=request)
        return (
            f"You joined {invitation.workspace.name} as {membership.role}. "
            "Choose it in the workspace switcher to open it."
        )

    return _answer(request, invitation_id, accept)


@login_required
@require_POST
def invitation_decline(request, invitation_id: int):
    def decline(invitation):
        services.invitation_decline(invitation=invitation, request=request)
        return f"You declined the invitation to {invitation.workspace.name}."

    return _answer(request, invitation_id, decline)


# Personal API keys.


def _keys_context(request, **extra) -> dict:
    return {
        "keys": page_of(
            request,
            ApiKey.objects.filter(user=request.user)
            .select_related("workspace")
            .order_by("-created_at", "-id"),
        ),
        "form": ApiKeyForm(workspaces=visible_workspaces(request)),
        **extra,
    }


@never_cache  # a created key's plaintext is in this response: no cache may keep it
@login_required
def api_keys(request):
    template = template_for(
        request, "accounts/api_keys.html", fragments=("key-table",), default="keys-panel"
    )
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
            return render(request, template, context, status=201 if request.htmx else 200)
        return render(request, template, _keys_context(request, form=form), status=422)
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
