"""Accounts made in our app before the district used Clever are linked by the sync, before it
would create a second account, and are Clever-managed from then on."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AccountLink, User
from rostering import services
from rostering.models import District, SectionStudent, SyncRun
from tests.factories import DistrictFactory, UserFactory
from tests.sso.helpers import button_login
from tests.sync.conftest import sync

pytestmark = pytest.mark.django_db

MOLLY = "07782ff269ed248fe3548e49"  # student ST100, district username mmulticlass
MOLLY_EMAIL = "molly.multiclass@students.cert-isd.example"


def _local(**fields) -> User:
    user = UserFactory(first_name="Mol", last_name="M", **fields)
    user.set_password("her-old-password")
    user.save()
    return user


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("sis_id", {"username": "molly.m", "sis_id": "ST100"}),
        ("district_username", {"username": "mmulticlass"}),
        ("district_username", {"username": "molly.m", "district_username": "mmulticlass"}),
        ("email", {"username": "molly.m", "email": MOLLY_EMAIL.upper()}),
    ],
)
def test_the_sync_links_a_local_account_instead_of_creating_a_second(cert, settings, rule, fields):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", rule]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["students.cert-isd.example"]
    local = _local(**fields)
    run = sync(cert)

    assert User.objects.filter(clever_id=MOLLY).count() == 1
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.pk == local.pk
    assert (molly.username, molly.matched_by) == (fields["username"], rule)
    assert molly.source == User.Source.CLEVER and molly.district == cert
    assert molly.check_password("her-old-password")
    # Clever's data replaced ours, and her classes hang off her old account.
    assert (molly.first_name, molly.last_name) == ("Molly", "Multiclass")
    assert SectionStudent.objects.filter(user=molly, archived_at=None).count() == 5
    assert run.counts["users"]["linked"] == 1
    link = AccountLink.objects.get(user=molly)
    assert (link.clever_id, link.rule, link.action) == (MOLLY, rule, "linked")
    assert f"#{run.pk}" in link.reason


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ("sis_id", {"username": "molly.m", "sis_id": "ST100"}),
        ("district_username", {"username": "mmulticlass"}),
        ("email", {"username": "molly.m", "email": MOLLY_EMAIL}),
    ],
)
def test_local_account_then_sync_then_login_is_one_account(cert, client, settings, rule, fields):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", rule]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["students.cert-isd.example"]
    local = _local(**fields)
    sync(cert)
    response, _ = button_login(client, MOLLY)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(local.pk)
    assert User.objects.filter(first_name="Molly", last_name="Multiclass").count() == 1


def test_a_linked_account_is_archived_and_restored_like_any_other(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    local = _local(username="molly.m", sis_id="ST100")
    sync(cert)
    clever.world.update_record("users", MOLLY, name__first="Molly-Ann")
    sync(cert)
    local.refresh_from_db()
    assert local.first_name == "Molly-Ann"

    clever.world.unshare("users", MOLLY)
    sync(cert)
    local.refresh_from_db()
    assert local.archived_at is not None
    clever.world.reshare("users", MOLLY)
    sync(cert)
    local.refresh_from_db()
    assert local.archived_at is None and local.username == "molly.m"
    assert SectionStudent.objects.filter(user=local, archived_at=None).count() == 5


def test_two_candidates_link_nothing_and_are_reported(cert):
    a = _local(username="a", sis_id="ST100")
    b = _local(username="b", sis_id="ST100")
    run = sync(cert)
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.pk not in (a.pk, b.pk) and molly.matched_by == ""
    error = run.errors.get(clever_id=MOLLY)
    assert "2 accounts match by sis_id" in error.message
    assert f"#{a.pk}" in error.message and f"#{b.pk}" in error.message
    a.refresh_from_db()
    assert a.clever_id is None and a.source == User.Source.LOCAL


def test_one_account_claimed_by_two_clever_users_links_neither(cert, clever, settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["cert-isd.example"]
    tara = next(
        u["id"]
        for u in clever.world.users(clever.world.district_named("Certification ISD").id)
        if u["name"]["first"] == "Tara"
    )
    clever.world.update_record("users", tara, email="shared@cert-isd.example")
    morgan = next(
        u["id"]
        for u in clever.world.users(clever.world.district_named("Certification ISD").id)
        if u["name"]["first"] == "Morgan"
    )
    clever.world.update_record("users", morgan, email="shared@cert-isd.example")
    local = _local(username="shared", email="shared@cert-isd.example")
    run = sync(cert)
    local.refresh_from_db()
    assert local.clever_id is None
    messages = {e.clever_id: e.message for e in run.errors.all()}
    assert "so does another Clever user" in messages[tara]
    assert "so does another Clever user" in messages[morgan]


def test_an_unverified_email_is_never_linked_and_is_reported(cert, settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["other.org"]
    local = _local(username="molly.m", email=MOLLY_EMAIL)
    run = sync(cert)
    local.refresh_from_db()
    assert local.clever_id is None
    assert "CLEVER_VERIFIED_EMAIL_DOMAINS" in run.errors.get(clever_id=MOLLY).message


def test_staff_and_other_districts_accounts_are_never_candidates(cert, settings):
    staff = _local(username="ops", sis_id="ST100", is_staff=True)
    elsewhere = _local(username="m2", sis_id="ST100", district=DistrictFactory())
    run = sync(cert)
    assert run.counts["users"]["linked"] == 0
    for user in (staff, elsewhere):
        user.refresh_from_db()
        assert user.clever_id is None
    assert not run.errors.filter(clever_id=MOLLY).exists()


def test_a_dry_run_links_nothing(cert):
    local = _local(username="molly.m", sis_id="ST100")
    sync(cert, dry_run=True)
    local.refresh_from_db()
    assert local.clever_id is None and not AccountLink.objects.exists()


def test_events_link_a_local_account_before_creating_one(cert, clever, settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    clever.world.unshare("users", MOLLY)
    sync(cert)
    assert not User.objects.filter(clever_id=MOLLY).exists()
    local = _local(username="molly.m", sis_id="ST100")
    clever.world.reshare("users", MOLLY)  # users.created
    run = services.district_events_apply(district=District.objects.get(pk=cert.pk))
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.pk == local.pk and molly.matched_by == "sis_id"
    assert molly.first_name == "Molly"
    assert SectionStudent.objects.filter(user=molly, archived_at=None).count() == 5


# --- Linking and unlinking by hand, the report ------------------------------------------------


def _matching_page(admin_client, district):
    response = admin_client.get(reverse("admin:rostering_district_matching", args=[district.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_account_imported_after_the_sync_is_linked_by_hand_merging_the_synced_one(
    cert, admin_client, client
):
    sync(cert)
    made = User.objects.get(clever_id=MOLLY)
    button_login(client, MOLLY)  # Molly is logged in on her synced account
    assert "Logged in as" in client.get("/").content.decode()
    local = _local(username="molly.m", sis_id="ST100", district=cert)
    page = _matching_page(admin_client, cert)
    assert "To link by hand (1)" in page and "molly.m matches by sis_id" in page

    response = admin_client.post(
        reverse("admin:rostering_district_matching", args=[cert.pk]),
        {"action": "link", "user": local.pk, "clever_id": MOLLY, "reason": "ticket 42"},
    )
    assert response.status_code == 302
    local.refresh_from_db()
    assert (local.clever_id, local.matched_by, local.source) == (MOLLY, "manual", "clever")
    assert (local.first_name, local.username) == ("Molly", "molly.m")
    assert local.check_password("her-old-password")
    assert SectionStudent.objects.filter(user=local, archived_at=None).count() == 5
    made.refresh_from_db()
    assert made.clever_id is None and not made.is_active and made.archived_at is not None
    assert not SectionStudent.objects.filter(user=made).exists()
    link = AccountLink.objects.get(user=local)
    assert (link.rule, link.reason, link.merged_from) == ("manual", "ticket 42", made)
    assert link.actor.username == "admin"
    # The merged account's session no longer logs anyone in.
    assert "Logged in as" not in client.get("/").content.decode()
    # The next sync keeps the link and makes no third account.
    sync(cert)
    assert User.objects.get(clever_id=MOLLY).pk == local.pk
    assert "Linked (1)" in _matching_page(admin_client, cert)


def test_unlink_by_hand_archives_the_roster_rows_and_is_never_matched_again(cert, admin_client):
    local = _local(username="molly.m", sis_id="ST100")
    sync(cert)
    url = reverse("admin:rostering_district_matching", args=[cert.pk])
    missing_reason = admin_client.post(url, {"action": "unlink", "user": local.pk, "reason": " "})
    assert missing_reason.status_code == 302
    local.refresh_from_db()
    assert local.clever_id == MOLLY  # nothing done without a reason

    admin_client.post(url, {"action": "unlink", "user": local.pk, "reason": "wrong Molly"})
    local.refresh_from_db()
    assert (local.clever_id, local.source, local.matched_by) == (None, "local", "")
    assert not SectionStudent.objects.filter(user=local, archived_at=None).exists()
    run = sync(cert)
    molly = User.objects.get(clever_id=MOLLY)
    assert molly.pk != local.pk and molly.username == f"clever-{MOLLY}"
    assert SectionStudent.objects.filter(user=molly, archived_at=None).count() == 5
    assert run.counts["users"]["linked"] == 0
    page = _matching_page(admin_client, cert)
    assert "Unlinked by hand (1)" in page and "wrong Molly" in page
    assert "To link by hand (0)" in page


def test_the_report_lists_doubts_refusals_and_the_unmatched(cert, settings, admin_client):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "sis_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = []
    _local(username="a", sis_id="ST100")
    _local(username="b", sis_id="ST100")
    _local(username="tara.old", email="tara.teamwork@cert-isd.example")
    _local(username="nobody", sis_id="NOPE", district=cert)
    sync(cert)
    page = _matching_page(admin_client, cert)
    assert "Several candidates, or one account claimed twice (1)" in page
    assert "2 accounts match by sis_id" in page
    assert "Email matches refused: domain not verified (1)" in page
    assert "Left unmatched (1)" in page and "nobody" in page

    out = io.StringIO()
    call_command("matching_report", "--district", cert.clever_id, stdout=out)
    text = out.getvalue()
    assert "several candidates or claimed twice: 1" in text
    assert "email match refused, domain not verified: 1" in text
    assert "left unmatched: 1" in text and "nobody" in text


def test_a_staff_account_can_never_be_linked_by_hand(cert, admin_client):
    sync(cert)
    staff = _local(username="ops2", is_staff=True)
    admin_client.post(
        reverse("admin:rostering_district_matching", args=[cert.pk]),
        {"action": "link", "user": staff.pk, "clever_id": MOLLY, "reason": "oops"},
    )
    staff.refresh_from_db()
    assert staff.clever_id is None
    assert User.objects.get(clever_id=MOLLY).matched_by == ""


def test_ops_without_the_user_permission_see_the_report_but_cannot_link(cert, client):
    sync(cert)
    local = _local(username="molly.m", sis_id="ST100", district=cert)
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_district"))
    client.force_login(viewer)
    url = reverse("admin:rostering_district_matching", args=[cert.pk])
    assert "Link</button>" not in client.get(url).content.decode()
    response = client.post(
        url, {"action": "link", "user": local.pk, "clever_id": MOLLY, "reason": "x"}
    )
    assert response.status_code == 403
    local.refresh_from_db()
    assert local.clever_id is None
