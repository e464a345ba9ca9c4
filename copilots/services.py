"""The copilot runner: evidence → redaction → messages → LLM or offline → post-rules → stored.

An LLM failure (timeout, 429, 5xx, an unusable reply) is not an error for the caller: the
offline advice is returned, and the Consultation records what went wrong.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from accounts.services import audit_record
from copilots import llm, prompting
from copilots.consultations import copilot
from copilots.consultations.base import NotApplicable
from copilots.models import Consultation
from copilots.prompting import ReplyError
from copilots.redaction import redact, secret_values
from engine import quotas
from engine.errors import StudioError

logger = logging.getLogger(__name__)

__all__ = ["NotApplicable", "Throttled", "consult", "consult_throttle"]

THROTTLE_NAMESPACE = "copilot-throttle"


class Throttled(StudioError):
    status = 429
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many copilot calls; try again in {retry_after} s.")
        self.retry_after = retry_after


def throttle_limit() -> int:
    return settings.COPILOT_THROTTLE_PER_MINUTE


def consult_throttle(*, user: User) -> None:
    """Count one copilot call for `user` in the current minute; Throttled past the limit."""
    now = time.time()
    key = f"{THROTTLE_NAMESPACE}:{user.pk}:{int(now // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > throttle_limit():
        raise Throttled(retry_after=max(1, 60 - int(now % 60)))


def _store(
    *, type: str, user: User | None, links: dict[str, Any], request=None, **fields
) -> Consultation:
    project = links.get("project")
    actor = user if user is not None and user.is_authenticated else None
    consultation = Consultation.objects.create(
        type=type, created_by=actor, workspace=project.workspace, **links, **fields
    )
    # Which copilot, on what, and how it went: never the evidence, the prompt or the advice.
    audit_record(
        action="copilot.consulted",
        request=request,
        actor=actor,
        workspace=project.workspace,
        target=consultation,
        metadata={
            "type": type,
            "status": consultation.status,
            "offline": consultation.offline,
            "provider": consultation.provider,
            "model": consultation.model,
            "project_id": project.pk,
            "tokens_in": consultation.tokens_in,
            "tokens_out": consultation.tokens_out,
        },
    )
    return consultation


def consult(*, type: str, obj: Any, user: User | None, request=None, **kw: Any) -> Consultation:
    """Run copilot `type` on `obj` and store the Consultation.

    Raises NotApplicable (the object is in the wrong state), Throttled, and a 429 StudioError
    past the workspace's daily quota of calls. The caller has already checked that `user` may
    see `obj`.
    """
    module = copilot(type)
    module.check(obj)
    if user is not None:
        consult_throttle(user=user)
    links = module.links(obj)
    workspace = links["project"].workspace
    quotas.copilot_calls_check(
        workspace=workspace,
        calls_today=Consultation.objects.filter(
            workspace=workspace, created_at__gte=quotas.day_start()
        ).count(),
    )
    secrets = secret_values()
    try:
        evidence = redact(prompting.cap_strings(module.build_evidence(obj, **kw)), secrets)
        messages = redact(module.build_messages(evidence), secrets)
        offline = module.offline_advice(evidence)
    except Exception as exc:
        _store(
            type=type,
            user=user,
            links=links,
            request=request,
            status=Consultation.Status.FAILED,
            provider="offline",
            offline=True,
            error=f"The evidence could not be built: {exc.__class__.__name__}: {exc}"[:2000],
        )
        raise
    fields: dict[str, Any] = {
        "status": Consultation.Status.SUCCEEDED,
        "provider": "offline",
        "model": "",
        "offline": True,
        "messages": messages,
    }
    advice = dict(offline)
    notes = list(advice.pop("notes", []))
    wants_llm = getattr(module, "needs_llm", lambda _evidence: True)(evidence)
    if llm.is_configured() and wants_llm:
        result = None
        try:
            result = llm.complete(messages)
            reply = module.parse(result.text)
            advice, notes = module.finalize(reply, evidence, offline, obj)
        except llm.LLMError as exc:
            fields.update(
                status=Consultation.Status.FAILED,
                latency_ms=exc.latency_ms,
                error=f"{llm.configured_model()}: {exc}"[:2000],
            )
            notes.append(f"The LLM call failed ({exc.kind}); this is the offline analysis.")
        except ReplyError as exc:
            fields.update(
                status=Consultation.Status.FAILED,
                error=f"{result.model}: unusable reply: {exc}"[:2000],
            )
            notes.append(
                f"The LLM's reply could not be used ({exc}); this is the offline analysis."
            )
        except Exception as exc:  # a reply shaped in a way the post-rules did not foresee
            logger.exception("copilot %s: the LLM's reply broke the post-rules", type)
            fields.update(
                status=Consultation.Status.FAILED,
                error=f"{result.model if result else ''}: unusable reply: "
                f"{exc.__class__.__name__}: {exc}"[:2000],
            )
            notes.append("The LLM's reply could not be used; this is the offline analysis.")
        else:
            fields.update(provider=result.provider, model=result.model, offline=False)
        if result is not None:
            fields.update(
                raw_response=result.raw,
                tokens_in=result.tokens_in,
                tokens_out=result.tokens_out,
                cost_usd=result.cost_usd,
                latency_ms=result.latency_ms,
            )
    if notes:
        advice["notes"] = notes
    return _store(type=type, user=user, links=links, request=request, advice=advice, **fields)
