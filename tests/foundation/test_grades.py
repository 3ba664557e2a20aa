from __future__ import annotations

import pytest

from clever.grades import CLEVER_GRADES, normalize_grade


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Kindergarten", "Kindergarten"),
        ("kindergarten", "Kindergarten"),
        ("07", "7"),
        ("13", "13"),
        ("PostGraduate", "PostGraduate"),
        ("", ""),
        (None, ""),
        ("K", "Other"),
        ("Grade 5", "Other"),
        ("0", "Other"),
    ],
)
def test_normalize_grade(raw, expected):
    assert normalize_grade(raw) == expected


def test_every_clever_grade_maps_to_itself():
    assert all(normalize_grade(g) == g for g in CLEVER_GRADES)
