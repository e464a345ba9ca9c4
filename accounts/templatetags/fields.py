"""Template helpers for form fields (templates/_field.html)."""

from __future__ import annotations

import re

from django import template
from django.utils.html import strip_tags

register = template.Library()

_ITEM_END = re.compile(r"</(?:li|p|div)>|<br\s*/?>", re.IGNORECASE)


@register.filter
def help_text(text) -> str:
    """A field's help as plain text: a list of rules (the password validators') becomes
    sentences separated by spaces, instead of running together when the tags are stripped."""
    if not text:
        return ""
    parts = [strip_tags(part).strip() for part in _ITEM_END.split(str(text))]
    parts = [p for p in parts if p]
    sentences = [p if p.endswith((".", "!", "?", ":")) else p + "." for p in parts]
    return " ".join(sentences) if len(sentences) > 1 else (parts[0] if parts else "")
