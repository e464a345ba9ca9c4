"""Sign-in, failed sign-in and sign-out in the audit log, from Django's auth signals: every way
in (the login page, the admin's, signup's automatic login) sends them. Domain events are
recorded by the services themselves (`accounts.services.audit_record`)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from accounts.models import ApiKey, Membership, User
from accounts.services import audit_record
from pycaret_studio.serving_cache import serving_cache_forget

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


def _forget_keys(*key_hashes: str) -> None:
    from accounts.auth import key_cache_key

    serving_cache_forget(*(key_cache_key(key_hash) for key_hash in key_hashes))


@receiver(post_save, sender=ApiKey, dispatch_uid="api_key_cache_forget_saved")
@receiver(post_delete, sender=ApiKey, dispatch_uid="api_key_cache_forget_deleted")
def api_key_cache_forget(sender, instance, **kwargs):
    _forget_keys(instance.key_hash)


@receiver(post_save, sender=User, dispatch_uid="user_keys_cache_forget_saved")
@receiver(pre_delete, sender=User, dispatch_uid="user_keys_cache_forget_deleted")
def user_keys_cache_forget(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes nothing a key's authentication reads
    _forget_keys(*ApiKey.objects.filter(user=instance).values_list("key_hash", flat=True))


@receiver(post_save, sender=Membership, dispatch_uid="membership_role_cache_forget_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="membership_role_cache_forget_deleted")
def membership_role_cache_forget(sender, instance, **kwargs):
    """A key request's cached role (accounts.access._role)."""
    from accounts.access import role_cache_key

    serving_cache_forget(role_cache_key(instance.user_id, instance.workspace_id))
