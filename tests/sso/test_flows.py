"""Only our own paths survive as `next` (no open redirects)."""

from __future__ import annotations

import pytest

from sso.flows import safe_next


@pytest.mark.parametrize("value", ["/", "/golive/", "/?tab=2", "/sections/5e1/"])
def test_own_paths_are_kept(value):
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
        "/%0d%0aLocation:%20https://evil.example",
        "",
        None,
    ],
)
def test_other_targets_are_dropped(value):
    assert safe_next(value) == ""
