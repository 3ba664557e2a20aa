"""Login gates: checks other apps add to every Clever login, after the person is identified.

A gate answers why this person may not log in now (a sentence for the refusal page), or None.
``golive`` registers its launch gate here when Django starts (``GoliveConfig.ready``), so SSO
never imports the app that reads SSO's records: imports run golive -> sso.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from rostering.models import District

Gate = Callable[..., "str | None"]  # (*, district: District, user: User | None) -> str | None

_gates: list[Gate] = []


def login_gate_register(gate: Gate) -> None:
    """Add ``gate`` to every login (once, however often Django's apps are readied)."""
    if gate not in _gates:
        _gates.append(gate)


def login_block_reason(*, district: District, user: User | None) -> str | None:
    """The first gate's reason to refuse this login, or None when every gate lets them in."""
    for gate in _gates:
        reason = gate(district=district, user=user)
        if reason:
            return reason
    return None
