"""Clever's user-type (role) names, defined once for SSO, the sync and the go-live pages.

Clever spells the admin type "district admin" in id_tokens and "district_admin" in the v3 Data
API (https://dev.clever.com/docs/oidc-implementation, /docs/multi-role-users-in-clever).
"""

from __future__ import annotations

STUDENT = "student"
TEACHER = "teacher"
STAFF = "staff"
DISTRICT_ADMIN = "district_admin"
SCHOOL_ADMIN = "school_admin"
CONTACT = "contact"

# The roles a v3 user record carries (``roles.<name>``), in the order we read them.
ROLES: tuple[str, ...] = (STUDENT, TEACHER, STAFF, DISTRICT_ADMIN, CONTACT)
# Every login type Clever can report.
LOGIN_TYPES: tuple[str, ...] = (*ROLES, SCHOOL_ADMIN)
# Employees with administrative reach (a teacher who is also one may log in as a teacher).
ADMIN_TYPES = frozenset({DISTRICT_ADMIN, STAFF, SCHOOL_ADMIN})


def normalise_user_type(value: str) -> str:
    """Clever's v3 spelling of a user type: "District Admin" and "district-admin" are
    district_admin."""
    return value.strip().lower().replace(" ", "_").replace("-", "_")
