"""Sign-in, failed sign-in and sign-out in the audit log, from Django's auth signals: every way
in (the login page, the admin's, signup's automatic login) sends them. Domain events are
recorded by the services themselves (`accounts.services.audit_record`)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.services import audit_record

USERNAME_MAX = 150


@receiver(user_logged_in, dispatch_uid="audit_signed_in")
def audit_signed_in(sender, request, user, **kwargs):
    audit_record(action="auth.signed_in", request=request, actor=user, target=user)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def audit_sign_in_failed(sender, credentials, request=None, **kwargs):
    if getattr(request, "axes_locked_out", False):
        # Locked out (django-axes): the failures that led here are recorded; a flood of
        # attempts past the limit would only flood the audit log.
        return
    # `credentials` is cleansed by Django (the password is masked), but only the name is kept.
    username = str((credentials or {}).get("username") or "")[:USERNAME_MAX]
    audit_record(action="auth.sign_in_failed", request=request, metadata={"username": username})


@receiver(user_logged_out, dispatch_uid="audit_signed_out")
def audit_signed_out(sender, request, user, **kwargs):
    if user is None:  # the session had nobody signed in
        return
    audit_record(action="auth.signed_out", request=request, actor=user, target=user)
