"""A teacher who is also an administrator in Clever: one merged Clever user, or two Clever IDs.

Clever merges employee roles into one user when the district's records agree (one Clever ID with
several roles); records it cannot tie together (here: a different email) stay two users with two
Clever IDs. Both cases end where the certification report says they do.
"""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from accounts.models import User
from rostering import connections, services
from rostering.models import District, UserRole
from tests.sso.helpers import button_login, text

pytestmark = pytest.mark.django_db

LAKESIDE = "Lakeside Charter Schools"
AVERY = "52812cc911f7054f91dc5430"  # Avery Adminteacher: teacher T300 + district admin SF003


def _teacher_admin_answer() -> str:
    out = StringIO()
    call_command("certification_report", stdout=out)
    markdown = out.getvalue()
    start = markdown.index("**If a teacher is also an administrator in Clever")
    return markdown[start:].split("\n\n", 2)[1]


def _roles(user: User) -> set[str]:
    return set(UserRole.objects.filter(user=user, archived_at=None).values_list("role", flat=True))


def _sync_all() -> None:
    connections.district_connections_refresh()
    for district in District.objects.filter(status=District.Status.CONNECTED):
        run = services.district_sync(district=district)
        assert run.status == "succeeded", run.error


@pytest.fixture
def split(clever, tmp_path) -> tuple[str, str]:
    """Lakeside's district admin Lou also teaches, under another email: two Clever users.
    Returns (teacher id, administrator id)."""
    source = Path(django_settings.CLEVER_LOOKALIKE_DATA_DIR) / "lakeside-charter"
    folder = tmp_path / "lakeside-charter"  # same folder name: the same district, reloaded
    shutil.copytree(source, folder)
    with (folder / "teachers.csv").open("a") as f:
        f.write("LS-1,LT3,Lou,Lakeside,lou.teaches@lakeside.example\n")
    sections = (folder / "sections.csv").read_text()
    (folder / "sections.csv").write_text(
        sections + "LS-1,LSEC-3,LT3,Robotics,8,technology and engineering,Robotics,ROB,"
        "2025-2026,2025-08-20,2026-06-05\n"
    )
    with (folder / "enrollments.csv").open("a") as f:
        f.write("LS-1,LSEC-3,LS100\n")
    district = clever.world.load_district(folder)
    lous = [u for u in clever.world.users(district.id) if u["name"]["first"] == "Lou"]
    assert len(lous) == 2, "the look-alike merged records Clever would keep apart"
    teacher = next(u["id"] for u in lous if "teacher" in u["roles"])
    admin = next(u["id"] for u in lous if "district_admin" in u["roles"])
    return teacher, admin


def test_two_clever_ids_give_two_accounts_each_with_its_own_roles(client, clever, split, settings):
    teacher_id, admin_id = split
    _sync_all()
    teacher, admin = User.objects.get(clever_id=teacher_id), User.objects.get(clever_id=admin_id)
    assert teacher.pk != admin.pk
    assert _roles(teacher) == {"teacher"} and _roles(admin) == {"district_admin"}

    # The teacher record opens the teacher's classes.
    response, _ = button_login(client, teacher_id)
    assert response.status_code == 302
    home = text(client.get("/"))
    assert "Your classes" in home and "Robotics" in home
    client.post("/logout/")

    # No administrator type supported: the administrator record on its own is refused.
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    response, _ = button_login(client, admin_id, as_role="district_admin")
    assert response.status_code == 403
    assert "district admin account, which Classroom doesn't support" in text(response)
    answer = _teacher_admin_answer()
    assert "Split (two Clever IDs, one for the teacher record and one for the administrator" in (
        answer
    )
    assert "two separate accounts, one per Clever ID, each with its own roles" in answer
    assert "matching never links a Clever user to an account that already has a Clever ID" in (
        answer
    )
    assert "the administrator record on its own is refused with a page naming its type" in answer

    # Supported: it opens the district overview, still its own account.
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student", "district_admin"]
    response, _ = button_login(client, admin_id, as_role="district_admin")
    assert response.status_code == 302
    assert f"<h1>{LAKESIDE}</h1>" in text(client.get("/"))
    assert User.objects.filter(first_name="Lou", last_name="Lakeside").count() == 2
    assert "opens the district overview when its type is supported (district admins)" in (
        _teacher_admin_answer()
    )


def test_one_merged_clever_user_is_one_account_with_both_roles(client, clever, settings):
    _sync_all()
    avery = User.objects.get(clever_id=AVERY)
    assert _roles(avery) == {"teacher", "district_admin"}

    # Administrators not supported: their administrator login is admitted as a teacher.
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    response, _ = button_login(client, AVERY, as_role="district_admin")
    assert response.status_code == 302
    assert client.session["clever_login_type"] == "teacher"
    assert "Your classes" in text(client.get("/"))
    answer = _teacher_admin_answer()
    assert "Merged (Clever's v3 multi-role user: one Clever ID with a teacher and an" in answer
    assert "one account with one role row per role" in answer
    assert "an administrator login of theirs is admitted as a teacher" in answer
    client.post("/logout/")

    # Supported: the home page follows the type they logged in as; still one account.
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student", "district_admin"]
    button_login(client, AVERY, as_role="district_admin")
    assert client.session["clever_login_type"] == "district_admin"
    assert "<h1>Certification ISD</h1>" in text(client.get("/"))
    client.post("/logout/")
    button_login(client, AVERY, as_role="teacher")
    assert "Your classes" in text(client.get("/"))
    assert User.objects.filter(clever_id=AVERY).count() == 1
    # Only the administrator types still unsupported are said to be admitted as teachers.
    assert "(school staff and school admins are not supported on their own)" in (
        _teacher_admin_answer()
    )
