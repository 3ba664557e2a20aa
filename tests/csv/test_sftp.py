"""The SFTP drop and fetching, against real SFTP servers on loopback (asyncssh)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import asyncssh
import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from rostering import csvservices, sftpdrop
from rostering.models import CsvDistrict, CsvFile, SyncRun
from tests.csv.conftest import district_files, write_folder

pytestmark = [pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def drop(settings, eager):
    """Our SFTP drop, serving in a thread on a free loopback port; yields the port."""
    settings.CSV_QUIET_SECONDS = 1
    port = _free_port()
    thread, stop = sftpdrop.serve_in_thread(host="127.0.0.1", port=port)
    yield port
    stop()
    thread.join(10)
    connection.close()


async def _upload(port: int, username: str, files: dict[str, bytes], **auth) -> list[str]:
    async with (
        asyncssh.connect(
            "127.0.0.1", port, username=username, known_hosts=None, agent_path=None, **auth
        ) as conn,
        conn.start_sftp_client() as sftp,
    ):
        for name, data in files.items():
            async with sftp.open(name, "wb") as handle:
                await handle.write(data)
        return sorted(n for n in await sftp.listdir(".") if not n.startswith("."))


def _wait_for_run(district, timeout: float = 30) -> SyncRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = (
            SyncRun.objects.filter(district=district)
            .exclude(status__in=["running", "pending"])
            .first()
        )
        if run is not None:
            return run
        time.sleep(0.2)
    raise AssertionError("no run was started")


def test_a_district_pushes_its_files_and_they_are_processed_after_the_quiet_period(drop):
    added = csvservices.csv_district_add(key="pine", name="Pine Valley")
    files = district_files()
    listing = asyncio.run(_upload(drop, "pine", files, password=added.password))
    assert listing == sorted(files)
    kept = CsvFile.objects.filter(district=added.csv.district, via="drop")
    assert sorted(kept.values_list("name", flat=True)) == sorted(files)
    assert kept.get(name="students.csv").size == len(files["students.csv"])
    run = _wait_for_run(added.csv.district)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert User.objects.filter(district=added.csv.district).count() == 35
    assert not CsvDistrict.objects.get(key="pine").files_pending


def test_logins_are_per_district_and_chrooted(drop, tmp_path):
    pine = csvservices.csv_district_add(key="pine", name="Pine Valley")
    oak = csvservices.csv_district_add(key="oak", name="Oak")
    asyncio.run(_upload(drop, "oak", {"schools.csv": b"School_id\n"}, password=oak.password))
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(_upload(drop, "pine", {}, password=oak.password))
    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(_upload(drop, "nobody", {}, password="x"))

    async def wander() -> tuple[list[str], str]:
        async with asyncssh.connect(
            "127.0.0.1", drop, username="pine", password=pine.password, known_hosts=None,
            agent_path=None,
        ) as conn, conn.start_sftp_client() as sftp:  # fmt: skip
            up = sorted(n for n in await sftp.listdir("/..") if not n.startswith("."))
            try:
                async with sftp.open("../oak/evil.csv", "wb") as handle:
                    await handle.write(b"x")
            except asyncssh.SFTPError as exc:
                return up, exc.reason
            return up, "written"

    up, refused = asyncio.run(wander())
    assert "schools.csv" not in up and "oak" not in up  # oak's folder is not reachable
    assert "may be uploaded" in refused


def test_an_authorized_key_logs_in(drop, tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    public = key.export_public_key().decode()
    csvservices.csv_district_add(key="pine", name="Pine Valley", authorized_key=public)
    listing = asyncio.run(
        _upload(drop, "pine", {"staff.csv": b"Staff_id\n"}, client_keys=[key], password=None)
    )
    assert listing == ["staff.csv"]


def test_the_host_key_is_generated_once(settings, tmp_path):
    path = Path(settings.SFTP_HOST_KEY_FILE)
    first = sftpdrop.host_key(path).export_public_key()
    assert path.stat().st_mode & 0o777 == 0o600
    assert sftpdrop.host_key(path).export_public_key() == first


# --- Fetching from the district's server ---------------------------------------------------------


class _PasswordServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == "qs" and password == "pw-qs"


@pytest.fixture
def district_server(tmp_path):
    """A school system's SFTP server (asyncssh) serving tmp_path/remote; yields (port, folder)."""
    root = tmp_path / "remote"
    (root / "export").mkdir(parents=True)
    port = _free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    key = asyncssh.generate_private_key("ssh-ed25519")
    holder: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            holder["server"] = await asyncssh.create_server(
                _PasswordServer, "127.0.0.1", port, server_host_keys=[key],
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root)),
            )  # fmt: skip
            started.set()

        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield port, root / "export"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    connection.close()


def _fetch_district(port: int, password: str = "pw-qs") -> CsvDistrict:
    target = csvservices.fetch_target_parse(f"sftp://qs@127.0.0.1:{port}/export")
    return csvservices.csv_district_add(
        key="elm", name="Elm", fetch=target, fetch_password=password
    ).csv


def test_test_connection_lists_found_and_missing_files_with_a_header_check(district_server, capsys):
    port, folder = district_server
    files = district_files(enrollments_csv=None)
    files["teachers.csv"] = b"Teacher_id,School_id,First_name\nT1,S1,Tara\n"
    write_folder(folder, files)
    _fetch_district(port)
    with pytest.raises(SystemExit) as exit_:
        call_command("csv_test_connection", "elm")
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert f"Connected to 127.0.0.1:{port}." in out
    assert "enrollments.csv: missing" in out
    assert f"schools.csv: found, {len(files['schools.csv'])} bytes" in out and "header OK" in out
    assert "teachers.csv: found" in out and "required column Last_name is missing" in out
    (folder / "teachers.csv").write_bytes(district_files()["teachers.csv"])
    (folder / "enrollments.csv").write_bytes(district_files()["enrollments.csv"])
    call_command("csv_test_connection", "elm")
    assert "Everything expected is there." in capsys.readouterr().out
    assert CsvDistrict.objects.get(key="elm").fetch_host_key.startswith("ssh-ed25519 ")


def test_a_wrong_password_is_said_and_never_shown(district_server, capsys):
    port, _ = district_server
    _fetch_district(port, password="wrong-secret")
    with pytest.raises(SystemExit):
        call_command("csv_test_connection", "elm")
    out = capsys.readouterr().out
    assert "refused the username or its password or key" in out and "wrong-secret" not in out


def test_a_fetch_district_syncs_from_its_server(district_server, capsys):
    port, folder = district_server
    write_folder(folder, district_files())
    csv = _fetch_district(port)
    call_command("csv_sync", "elm")
    out = capsys.readouterr().out
    assert "Succeeded" in out and "read 32, applied 32, skipped 0" in out
    assert User.objects.filter(district=csv.district).count() == 35
    assert CsvFile.objects.filter(district=csv.district, via="fetch").count() == 6


def test_a_changed_host_key_is_refused(district_server):
    port, folder = district_server
    write_folder(folder, district_files())
    csv = _fetch_district(port)
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    CsvDistrict.objects.filter(pk=csv.pk).update(fetch_host_key=other)
    run = csvservices.csv_district_sync(district=csv.district)
    assert run.status == SyncRun.Status.FAILED and "host key of 127.0.0.1 changed" in run.error
    assert not User.objects.filter(district=csv.district).exists()
