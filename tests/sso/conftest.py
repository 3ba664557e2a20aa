"""Fixtures for SSO tests: the look-alike's demo district and people to log in as."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from clever import identity


@dataclass
class Demo:
    district_id: str
    users: dict[str, list[dict]]

    def one(self, role: str, *, where=lambda u: True) -> dict:
        """A user whose roles include ``role`` and who satisfies ``where``."""
        for user in self.users.get(role, []):
            if where(user):
                return user
        pytest.skip(f"the look-alike's demo data has no {role} matching this test's needs")

    @staticmethod
    def name(user: dict) -> str:
        return f"{user['name']['first']} {user['name']['last']}"


@pytest.fixture
def demo(clever) -> Demo:
    """The first connected district in the look-alike, its users grouped by role."""
    identity.clear_caches()
    district = next(d for d in clever.world.districts.values() if d.connected)
    users: dict[str, list[dict]] = {}
    for user in clever.world.users(district.id):
        for role in user.get("roles", {}):
            users.setdefault(role, []).append(user)
    return Demo(district_id=district.id, users=users)
