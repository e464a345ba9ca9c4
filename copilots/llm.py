"""The LLM boundary: the only module that imports litellm, and only inside functions.

litellm takes seconds to import, so nothing on the web process's start-up path may import it;
the first consultation that needs a model pays for it once. Every failure (timeout, 429, 5xx,
connection, a body that is not a completion) comes out as one `LLMError`, so the caller can
fall back to the offline provider.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import warnings
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

PRIMARY_GROUP = "copilot"


@dataclass(frozen=True)
class LLMResult:
    text: str
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    latency_ms: float
    raw: str


class LLMError(Exception):
    """The LLM call failed; `kind` is timeout, rate_limited, server_error, connection, ..."""

    def __init__(self, kind: str, message: str, *, latency_ms: float = 0.0) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.latency_ms = latency_ms


def is_configured() -> bool:
    return bool(settings.COPILOT_MODEL)


def configured_model() -> str:
    return settings.COPILOT_MODEL or ""


@functools.cache
def _litellm():
    # Prices come from the copy shipped with litellm, never fetched from the internet.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.drop_params = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return litellm


@functools.cache
def _router(model: str, api_base: str, fallbacks: tuple[str, ...], timeout: float):
    litellm = _litellm()
    model_list: list[dict[str, Any]] = [
        {
            "model_name": PRIMARY_GROUP,
            "litellm_params": {"model": model, **({"api_base": api_base} if api_base else {})},
        }
    ]
    names = []
    for i, fallback in enumerate(fallbacks, start=1):
        name = f"{PRIMARY_GROUP}-fallback-{i}"
        names.append(name)
        params: dict[str, Any] = {"model": fallback}
        # A fallback on the primary's provider shares its base (one gateway serving two
        # models); another provider uses its own default endpoint.
        if api_base and _prefix(fallback) == _prefix(model):
            params["api_base"] = api_base
        model_list.append({"model_name": name, "litellm_params": params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic chatter about litellm's own types
        return litellm.Router(
            model_list=model_list,
            fallbacks=[{PRIMARY_GROUP: names}],
            num_retries=0,
            timeout=timeout,
            disable_cooldowns=True,
        )


def _prefix(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else ""


def _provider(model: str) -> str:
    try:
        return _litellm().get_llm_provider(model)[1] or "unknown"
    except Exception:
        return model.split("/", 1)[0] if "/" in model else "unknown"


def _supports_json(model: str) -> bool:
    litellm = _litellm()
    try:
        model_name, provider, *_ = litellm.get_llm_provider(model)
        supported = litellm.get_supported_openai_params(
            model=model_name, custom_llm_provider=provider
        )
    except Exception:
        return False
    return "response_format" in (supported or [])


def _classify(exc: Exception) -> str:
    litellm = _litellm()
    exceptions = litellm.exceptions
    if isinstance(exc, exceptions.Timeout):
        return "timeout"
    if isinstance(exc, exceptions.RateLimitError):
        return "rate_limited"
    if isinstance(exc, exceptions.APIConnectionError):
        return "connection"
    if isinstance(exc, exceptions.AuthenticationError):
        return "authentication"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status == 429:
            return "rate_limited"
        if status >= 500:
            return "server_error"
        return f"http_{status}"
    return "error"


def _cost(litellm, response) -> float | None:
    try:
        cost = litellm.completion_cost(completion_response=response)
    except Exception:
        return None  # a model missing from the local price map has no known cost
    return float(cost) if cost else None


def complete(messages: list[dict[str, str]], *, json_mode: bool = True) -> LLMResult:
    """Send `messages` to COPILOT_MODEL (through its fallbacks) and return the reply."""
    model = configured_model()
    if not model:
        raise LLMError("not_configured", "COPILOT_MODEL is not set")
    litellm = _litellm()
    timeout = float(settings.COPILOT_TIMEOUT_S)
    api_base = settings.COPILOT_API_BASE or ""
    fallbacks = tuple(settings.COPILOT_FALLBACK_MODELS or ())
    kwargs: dict[str, Any] = {
        "messages": messages,
        "max_tokens": settings.COPILOT_MAX_TOKENS,
        "temperature": 0.2,
        "timeout": timeout,
        "drop_params": True,
    }
    if json_mode and _supports_json(model):
        kwargs["response_format"] = {"type": "json_object"}
    started = time.perf_counter()
    try:
        if fallbacks:
            response = _router(model, api_base, fallbacks, timeout).completion(
                model=PRIMARY_GROUP, **kwargs
            )
        else:
            response = litellm.completion(
                model=model,
                api_base=api_base or None,
                num_retries=0,
                max_retries=0,
                **kwargs,
            )
    except Exception as exc:
        latency = (time.perf_counter() - started) * 1000
        kind = _classify(exc)
        # The message can quote the request; keep it short, it is stored and shown.
        message = f"{type(exc).__name__}: {exc}"[:500]
        logger.warning("copilot LLM call failed (%s) after %.0f ms", kind, latency)
        raise LLMError(kind, message, latency_ms=latency) from exc
    latency = (time.perf_counter() - started) * 1000
    try:
        text = response.choices[0].message.content or ""
    except (AttributeError, IndexError) as exc:
        raise LLMError("bad_response", "the reply has no message", latency_ms=latency) from exc
    hidden = getattr(response, "_hidden_params", None) or {}
    answered_by = hidden.get("litellm_model_name") or model
    usage = getattr(response, "usage", None)
    try:
        raw = response.model_dump_json()
    except Exception:
        raw = text
    return LLMResult(
        text=text,
        provider=hidden.get("custom_llm_provider") or _provider(answered_by),
        model=answered_by,
        tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
        tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(litellm, response),
        latency_ms=latency,
        raw=raw,
    )
