"""Finding, linking and provisioning accounts for Clever users (accounts.services), and the roles
refreshed after them (rostering.roles)."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.selectors import user_by_clever_id
from accounts.services import user_from_clever as _user_from_clever
from clever.records import RoleRecord as CleverRole
from clever.records import UserRecord as CleverUser
from rostering.models import UserRole
from rostering.roles import user_roles_refresh
from tests.factories import CleverUserFactory, DistrictFactory, UserFactory

pytestmark = pytest.mark.django_db


def _clever_user(**overrides) -> CleverUser:
    fields = {
        "id": "5f0000000000000000000001",
        "district": "d1",
        "email": "ana.ruiz@springfield.k12.us",
        "first_name": "Ana",
        "middle_name": "",
        "last_name": "Ruiz",
        "roles": (CleverRole(role="teacher", sis_id="T-77", district_username="aruiz"),),
    }
    fields.update(overrides)
    return CleverUser(**fields)


def user_from_clever(*, clever_user: CleverUser, district):
    """As SSO calls it: with the account already found by Clever ID, if any; then their roles."""
    existing = user_by_clever_id(clever_id=clever_user.id)
    user = _user_from_clever(clever_user=clever_user, district_id=district.pk, existing=existing)
    user_roles_refresh(user=user, clever_user=clever_user)
    return user


@pytest.fixture
def district():
    return DistrictFactory(clever_id="d1")


def test_first_login_provisions_an_account_keyed_by_clever_id(district):
    cu = _clever_user()
    user = user_from_clever(clever_user=cu, district=district)
    assert (user.clever_id, user.source, user.district) == (cu.id, "clever", district)
    assert (user.first_name, user.last_name, user.email) == ("Ana", "Ruiz", cu.email)
    assert not user.has_usable_password()
    role = UserRole.objects.get(user=user)
    assert (role.role, role.sis_id, role.district_username) == ("teacher", "T-77", "aruiz")


def test_finds_the_account_the_sync_created_and_refreshes_it(district):
    synced = CleverUserFactory(
        clever_id="5f0000000000000000000001", district=district, first_name="Old", email="old@x"
    )
    UserRole.objects.create(user=synced, role="staff")
    user = user_from_clever(clever_user=_clever_user(), district=district)
    assert user.pk == synced.pk
    synced.refresh_from_db()
    assert (synced.first_name, synced.email) == ("Ana", "ana.ruiz@springfield.k12.us")
    roles = {r.role: r.archived_at for r in UserRole.objects.filter(user=synced)}
    assert roles["teacher"] is None and roles["staff"] is not None
    assert User.objects.count() == 1


def test_unchanged_login_writes_nothing(district, django_assert_num_queries):
    user_from_clever(clever_user=_clever_user(), district=district)
    # the account by Clever ID, its roles; no transaction, no writes
    with django_assert_num_queries(2) as ctx:
        user_from_clever(clever_user=_clever_user(), district=district)
    assert not any(
        q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) for q in ctx.captured_queries
    )


def test_links_a_local_account_by_sis_id(district):
    local = UserFactory(username="ana", sis_id="T-77", email="ana@gmail.com")
    user = user_from_clever(clever_user=_clever_user(), district=district)
    assert user.pk == local.pk
    local.refresh_from_db()
    assert local.matched_by == "sis_id" and local.username == "ana"
    assert local.clever_id == "5f0000000000000000000001" and local.district == district


def test_links_a_local_account_by_district_username(district, settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "district_username"]
    local = UserFactory(username="aruiz", sis_id="T-77")
    assert user_from_clever(clever_user=_clever_user(), district=district).pk == local.pk
    local.refresh_from_db()
    assert local.matched_by == "district_username"


def test_links_a_local_account_by_email_only_on_a_verified_domain(district, settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["springfield.k12.us"]
    local = UserFactory(username="ana", email="Ana.Ruiz@springfield.k12.us")
    assert user_from_clever(clever_user=_clever_user(), district=district).pk == local.pk


def test_never_links_on_an_unverified_email(district, settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["other.org"]
    local = UserFactory(username="ana", email="ana.ruiz@springfield.k12.us")
    user = user_from_clever(clever_user=_clever_user(), district=district)
    local.refresh_from_db()
    assert local.clever_id is None
    # Their own Clever account, as the sync would make; the matching report lists the match.
    assert user.pk != local.pk and user.username.startswith("clever-")


def test_never_links_a_staff_or_superuser_account(district):
    admin = UserFactory(username="ops", sis_id="T-77", is_staff=True)
    user = user_from_clever(clever_user=_clever_user(), district=district)
    assert user.pk != admin.pk
    admin.refresh_from_db()
    assert admin.clever_id is None


def test_ambiguous_sis_id_links_nothing(district):
    UserFactory(username="a", sis_id="T-77")
    UserFactory(username="b", sis_id="T-77")
    user = user_from_clever(clever_user=_clever_user(), district=district)
    assert user.source == "clever" and user.username.startswith("clever-")


def test_local_account_in_another_district_is_not_linked(district):
    other = UserFactory(username="ana", sis_id="T-77", district=DistrictFactory())
    assert user_from_clever(clever_user=_clever_user(), district=district).pk != other.pk


def test_student_without_email_is_provisioned(district):
    cu = _clever_user(email="", roles=(CleverRole(role="student", sis_id="S-1"),))
    user = user_from_clever(clever_user=cu, district=district)
    assert user.email == "" and user.clever_id == cu.id
