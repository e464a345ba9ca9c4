"""PyCaret's estimators by model id: check an id against the experiment's own list (CONFIG,
naming the closest valid ids) and build one with its parameters checked."""

from __future__ import annotations

from typing import Any

from engine.model_registry import closest_matches
from engine.runner.errors import ConfigError


def check_model_id(task: str, model_id: str, names: dict[str, str]) -> None:
    """CONFIG failure naming the closest valid ids, unless ``model_id`` is one of ``names``."""
    if model_id in names:
        return
    close = closest_matches(model_id, names.items())
    hint = f" Closest valid ids: {', '.join(close)}." if close else ""
    raise ConfigError(
        f"Unknown model id {model_id!r} for {task}.{hint} Valid ids: {', '.join(names)}"
    )


def build_estimator(exp: Any, model_id: str, params: dict[str, Any], names: dict[str, str]) -> Any:
    """PyCaret's own estimator for ``model_id`` with ``params`` applied, checked."""
    internal = exp.models(internal=True)
    cls = internal.loc[model_id, "Class"]
    args = dict(internal.loc[model_id, "Args"] or {})
    valid = set(cls(**args).get_params(deep=False))
    unknown = sorted(set(params) - valid)
    if unknown:
        close = {p: closest_matches(p, [(v, v) for v in valid], n=2) for p in unknown}
        hints = "; ".join(
            f"{p} (did you mean {', '.join(c)}?)" if c else p for p, c in close.items()
        )
        raise ConfigError(
            f"Unknown parameter(s) for {model_id} ({names[model_id]}): {hints}. "
            f"Valid: {', '.join(sorted(valid))}"
        )
    estimator = cls(**{**args, **params})
    validate = getattr(estimator, "_validate_params", None)  # scikit-learn >= 1.2
    if callable(validate):
        try:
            validate()
        except ValueError as exc:
            raise ConfigError(f"Invalid parameter for {model_id}: {exc}") from exc
    return estimator
