"""python manage.py accounts_import: a vendor's accounts from before Clever, ready to be matched."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.factories import CleverUserFactory, DistrictFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "username,email,first_name,last_name,sis_id,district_username\n"


def _run(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("accounts_import", str(path), *args, stdout=out, stderr=out)
    return out.getvalue()


def test_imports_accounts_into_a_district_and_is_idempotent(tmp_path):
    district = DistrictFactory(clever_id="d-1")
    text = "\ufeff" + HEADER + 'ana,ana@x.org,Ana,"Ruiz, Jr",T-77,aruiz\r\nben,,Ben,Li,,\r\n'
    out = _run(tmp_path, text, "--district", "d-1")
    assert "2 created, 0 updated, 0 unchanged" in out
    ana = User.objects.get(username="ana")
    assert (ana.email, ana.last_name, ana.sis_id, ana.district_username) == (
        "ana@x.org",
        "Ruiz, Jr",
        "T-77",
        "aruiz",
    )
    assert ana.source == "local" and ana.district == district and not ana.has_usable_password()
    assert "0 created, 0 updated, 2 unchanged" in _run(tmp_path, text, "--district", "d-1")
    changed = text.replace("T-77", "T-78")
    assert "0 created, 1 updated, 1 unchanged" in _run(tmp_path, changed, "--district", "d-1")
    assert User.objects.get(username="ana").sis_id == "T-78"


def test_columns_may_come_in_any_order_and_only_username_is_required(tmp_path):
    _run(tmp_path, "sis_id,username\nS-1,kid\n")
    assert User.objects.get(username="kid").sis_id == "S-1"


def test_every_bad_line_is_named_and_nothing_is_written(tmp_path):
    CleverUserFactory(username="clever-abc", clever_id="abc")
    UserFactory(username="ops", is_staff=True)
    UserFactory(username="elsewhere", district=DistrictFactory(clever_id="d-2"))
    DistrictFactory(clever_id="d-1")
    text = HEADER + (
        "ok,ok@x.org,O,K,,\n"
        ",x@x.org,,,,\n"
        "ok,dup@x.org,,,,\n"
        "mail,not-an-email,,,,\n"
        "clever-abc,,,,,\n"
        "ops,,,,,\n"
        "elsewhere,,,,,\n"
        "long,a@b.c,,,,,extra\n"
    )
    with pytest.raises(CommandError, match="7 errors; nothing was imported"):
        _run(tmp_path, text, "--district", "d-1")
    assert not User.objects.filter(username__in=["ok", "mail", "long"]).exists()
    out = io.StringIO()
    path = tmp_path / "accounts.csv"
    with pytest.raises(CommandError):
        call_command("accounts_import", str(path), "--district", "d-1", stderr=out)
    lines = out.getvalue()
    for expected in (
        "line 3: username is empty",
        "line 4: username ok is already on line 2",
        "line 5: email 'not-an-email' has no @",
        "line 6: clever-abc is a Clever account; not changed",
        "line 7: ops is a staff account; not changed",
        "line 8: elsewhere belongs to another district",
        "line 9: more values than the header has columns",
    ):
        assert expected in lines, (expected, lines)


def test_a_wrong_header_and_a_non_utf8_file_are_refused(tmp_path):
    with pytest.raises(CommandError):
        _run(tmp_path, "login,email\nana,a@x\n")
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADER.encode() + "jos\xe9,,,,,\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("accounts_import", str(path))
    with pytest.raises(CommandError, match="No district with Clever ID nope"):
        _run(tmp_path, HEADER, "--district", "nope")
    assert not User.objects.exists()
