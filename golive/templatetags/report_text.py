"""Template filters for the certification report's answers."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter(is_safe=True)
def paragraph(value: str) -> str:
    """One paragraph: every run of whitespace (line breaks included) becomes one space, so an
    answer's template can wrap its lines freely."""
    return " ".join(str(value).split())
