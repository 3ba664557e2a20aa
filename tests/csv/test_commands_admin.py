"""The CSV commands and admin pages: what ops type and click, and what they see."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.models import User
from rostering import csvservices, runs
from rostering.models import CsvDistrict, CsvFile, CsvSchedule, District, SyncRun
from tests.csv.conftest import district_files, to_zip, write_folder
from tests.runwait import wait_for_run


def test_csv_district_add_prints_the_drop_login_and_a_password_once(db, capsys):
    call_command("csv_district_add", "oak", "--name", "Oak Grove")
    out = capsys.readouterr().out
    assert "Created CSV district oak (Oak Grove)." in out and "username: oak" in out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if "password:" in line)
    csv = CsvDistrict.objects.get(key="oak")
    assert csv.district.source == District.Source.CSV and csv.district.clever_id == "csv:oak"
    assert password not in csv.sftp_password_hash and check_password(
        password, csv.sftp_password_hash
    )
    call_command("csv_district_add", "oak", "--name", "Oak Grove ISD")
    out = capsys.readouterr().out
    assert "Updated" in out and "password:" not in out
    assert CsvDistrict.objects.get(key="oak").district.name == "Oak Grove ISD"


def test_csv_district_add_fetch_keeps_the_password_encrypted(db, tmp_path, capsys):
    secret = tmp_path / "pw"
    secret.write_text("s3cret-pass\n")
    call_command(
        "csv_district_add", "elm", "--name", "Elm", "--fetch", "sftp://qs@files.example.org:2200/out",
        "--password-file", str(secret),
    )  # fmt: skip
    csv = CsvDistrict.objects.get(key="elm")
    assert (csv.fetch_host, csv.fetch_port, csv.fetch_username, csv.fetch_folder) == (
        "files.example.org", 2200, "qs", "out",
    )  # fmt: skip
    assert "s3cret" not in csv.fetch_password_ciphertext and csv.fetch_password == "s3cret-pass"
    assert "password:" not in capsys.readouterr().out
    with pytest.raises(Exception, match="names no user"):
        call_command("csv_district_add", "elm", "--fetch", "files.example.org/out")


def test_csv_sync_zip_dry_run_then_for_real(district, tmp_path, capsys):
    archive = tmp_path / "export.zip"
    archive.write_bytes(to_zip(district_files(), folder="export/"))
    call_command("csv_sync", "pine", "--zip", str(archive), "--dry-run")
    out = capsys.readouterr().out
    assert "Succeeded" in out and "students.csv" in out and "read 32, applied 32, skipped 0" in out
    assert not User.objects.filter(district=district).exists()
    call_command("csv_sync", "pine", "--zip", str(archive))
    assert User.objects.filter(district=district).count() == 35
    assert CsvFile.objects.filter(district=district, via="zip").count() == 12


def test_csv_sync_exits_1_on_a_failed_run(district, tmp_path, capsys):
    archive = tmp_path / "export.zip"
    archive.write_bytes(to_zip(district_files(sections_csv=None)))
    with pytest.raises(SystemExit) as exit_:
        call_command("csv_sync", "pine", "--zip", str(archive))
    assert exit_.value.code == 1
    assert "sections.csv: the file is missing (it is required)" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_process_run_is_skipped_while_one_holds_the_district(tmp_path, csv_storage):
    district = csvservices.csv_district_add(key="pine", name="Pine Valley").csv.district
    archive = tmp_path / "export.zip"
    archive.write_bytes(to_zip(district_files()))
    db = connection.settings_dict
    env = {
        **os.environ,
        "CSV_FILES_ROOT": str(csv_storage),
        # The second process reads this test's database.
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    with runs.district_lock(district.pk) as taken:
        assert taken
        done = subprocess.run(
            [sys.executable, "manage.py", "csv_sync", "pine", "--zip", str(archive)],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Skipped: another sync of this district is running" in done.stdout
    run = SyncRun.objects.get(district=district)
    assert run.status == SyncRun.Status.SKIPPED
    assert not User.objects.filter(district=district).exists()
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_admin_zip_upload_runs_and_history_shows_files_counts_and_errors(
    district, admin_client, eager
):
    csv = district.csv
    url = reverse("admin:rostering_csvdistrict_upload", args=[csv.pk])
    files = district_files()
    files["students.csv"] += b"PZ,S1,,Nameless,3,,,,,,\n"
    upload = io.BytesIO(to_zip(files))
    upload.name = "export.zip"
    response = admin_client.post(url, {"zip_file": upload})
    run = SyncRun.objects.get(district=district)
    # The run goes on in the background; the upload lands on its page.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rostering_syncrun_change", args=[run.pk])
    run = wait_for_run(run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    run_page = admin_client.get(response["Location"]).content.decode()
    assert "read 33, applied 32, skipped 1" in run_page
    page = admin_client.get(reverse("admin:rostering_csvdistrict_change", args=[csv.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Succeeded" in html
    assert "students.csv" in html and "read 33, applied 32, skipped 1" in html
    assert "students.csv line 34: First_name is required" in html
    entry = run.csv_files.get(file__name="schools.csv")
    download = admin_client.get(reverse("admin:rostering_csvdistrict_file", args=[entry.file.pk]))
    assert b"".join(download.streaming_content) == files["schools.csv"]
    bad = io.BytesIO(b"not a zip")
    bad.name = "x.zip"
    response = admin_client.post(url, {"zip_file": bad})
    assert response.status_code == 200 and "not a zip file" in response.content.decode()


def test_admin_schedules_are_pending_and_editable_until_they_start(district, admin_client):
    csv = district.csv
    url = reverse("admin:rostering_csvdistrict_change", args=[csv.pk])
    form = {
        "authorized_keys": "", "fetch_host": "", "fetch_port": "22", "fetch_username": "",
        "fetch_folder": ".", "fetch_password": "", "fetch_private_key": "",
        "schedules-TOTAL_FORMS": "1", "schedules-INITIAL_FORMS": "0",
        "schedules-MIN_NUM_FORMS": "0", "schedules-MAX_NUM_FORMS": "1000",
        "schedules-0-kind": "daily", "schedules-0-at_0": "2030-01-01",
        "schedules-0-at_1": "06:30:00",
    }  # fmt: skip
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = CsvSchedule.objects.get(csv=csv)
    assert schedule.next_run_at.strftime("%H:%M") == "06:30"
    page = admin_client.get(url).content.decode()
    assert "Pending" in page and "Daily" in page


def test_export_of_unknown_key_says_so(db):
    with pytest.raises(Exception, match="No district with Clever ID or CSV KEY nope"):
        call_command("district_export", "nope")
    assert json  # the export's JSON is checked in test_csv_sync
    assert write_folder
