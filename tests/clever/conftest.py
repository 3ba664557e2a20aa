"""Fixtures for the Clever client's tests: a fresh transport around each test.

The scripted server fixtures (``server``, ``serve_scripted``, ``tls_server``) live in
``tests/clever/scripted.py``, registered for the whole suite as a plugin in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clever import identity


@pytest.fixture(autouse=True)
def _fresh_clever_caches() -> Iterator[None]:
    """No pool, discovery document or key set carried over from another test."""
    identity.clear_caches()
    yield
    identity.clear_caches()
