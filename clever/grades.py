"""Clever's grade list, and normalising what a district sends onto it."""

from __future__ import annotations

CLEVER_GRADES: tuple[str, ...] = (
    "InfantToddler",
    "Preschool",
    "PreKindergarten",
    "TransitionalKindergarten",
    "Kindergarten",
    *(str(n) for n in range(1, 14)),
    "PostGraduate",
    "Ungraded",
    "Other",
)
_BY_LOWER = {grade.lower(): grade for grade in CLEVER_GRADES}


def normalize_grade(raw: str | None) -> str:
    """Clever's spelling of ``raw``; "" when absent; "Other" when not on Clever's list."""
    if raw is None:
        return ""
    value = raw.strip()
    if not value:
        return ""
    if value.isdigit() and value.lstrip("0"):
        value = value.lstrip("0")
    return _BY_LOWER.get(value.lower(), "Other")
