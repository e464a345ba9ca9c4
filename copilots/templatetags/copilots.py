"""Template tags that plug the copilots into other apps' pages, one line per slot.

    {% load copilots %}
    {% copilot_card "failure_debugging" run %}      a card (opt-in: no LLM call on page view)
    {% copilot_modal "deployment_review" pipeline %} a button and a dialog that fires when opened
    {% copilot_history dataset %}                    past consultations on an object

Model text is never marked safe: the filters below return plain strings that autoescape.
"""

from __future__ import annotations

import json

from django import template

from copilots import verdicts
from copilots.components import component, context_for
from copilots.configs import config_lines
from copilots.selectors import consultations_of

register = template.Library()

CATEGORY_TONES = {
    "DATA": "text-warn-500",
    "CONFIG": "tone-config",
    "ENGINE": "text-danger-500",
}
SEVERITY_BADGES = {"high": "badge-failed", "medium": "badge-waiting", "low": "badge-cancelled"}


def _render(context, template_name: str, values: dict) -> str:
    tmpl = context.template.engine.get_template(template_name)
    new_context = context.new(values)
    csrf_token = context.get("csrf_token")
    if csrf_token is not None:
        new_context["csrf_token"] = csrf_token
    return tmpl.render(new_context)


def _component(context, type: str, obj) -> str:
    spec = component(type)
    values = context_for(context.get("request"), type, obj)
    name = "copilots/_card.html" if spec.kind == "card" else "copilots/_modal.html"
    return _render(context, name, values)


@register.simple_tag(takes_context=True)
def copilot_card(context, type: str, obj) -> str:
    """The copilot `type` for `obj`: a card, or for modal copilots their button and dialog."""
    return _component(context, type, obj)


@register.simple_tag(takes_context=True)
def copilot_modal(context, type: str, obj) -> str:
    return _component(context, type, obj)


@register.simple_tag(takes_context=True)
def copilot_history(context, obj, type: str | None = None) -> str:
    values = {"obj": obj, "history": consultations_of(obj, type=type, limit=20)}
    return _render(context, "copilots/_history_card.html", values)


@register.filter
def verdict_tone(verdict: str | None) -> str:
    return verdicts.verdict_tone(verdict)


@register.filter
def category_tone(category: str | None) -> str:
    return CATEGORY_TONES.get(str(category or "").upper(), "")


@register.filter
def severity_badge(severity: str | None) -> str:
    return SEVERITY_BADGES.get(str(severity or ""), "")


@register.filter
def pretty_json(value) -> str:
    """Indented JSON as a plain string (autoescaped where it is shown)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@register.filter
def config_summary(config) -> list[tuple[str, str]]:
    """A suggested configuration as (label, text) pairs: task, target, options, plan."""
    return config_lines(config)


@register.filter
def error_kind(consultation) -> str:
    """The short reason an LLM call failed, from the stored error ("model: kind: ...")."""
    error = getattr(consultation, "error", "") or ""
    parts = [p.strip() for p in error.split(":")]
    for part in parts[1:3]:
        if part and len(part) <= 30:
            return part.replace("_", " ")
    return "error" if error else ""
