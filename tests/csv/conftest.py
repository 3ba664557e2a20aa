"""Fixtures for CSV rostering: a small district's files, written as a school system exports them."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from config.celery import app
from rostering import csvfiles, csvservices, services
from rostering.models import District, SyncRun
from tests.sync.conftest import sync_store  # noqa: F401 (every test runs on both stores)

SCHOOLS = [
    ["School_id", "School_name", "School_number", "Low_grade", "High_grade"],
    ["S1", "North Elementary", "101", "Kindergarten", "5"],
    ["S2", "South Middle", "102", "6", "8"],
]
TEACHERS = [
    ["Teacher_id", "School_id", "First_name", "Last_name", "Teacher_email", "Title"],
    ["T1", "S1", "Tara", "Teamwork", "tara@example.org", "Lead"],
    ["T2", "S2", "Omar", "Owens", "omar@example.org", ""],
    ["T3", "S1", "Cory", "Coteach", "", ""],
]
STAFF = [
    ["Staff_id", "School_id", "First_name", "Last_name", "Staff_email", "Title"],
    ["T1", "S1", "Tara", "Teamwork", "tara@example.org", "Coach"],
    ["ST9", "S2", "Pat", "Principal", "pat@example.org", "Principal"],
]
STUDENT_HEADER = [
    "Student_id", "School_id", "First_name", "Last_name", "Grade", "Student_number",
    "Contact_name", "Contact_type", "Contact_relationship", "Contact_email", "Contact_sis_id",
]  # fmt: skip


def student(n: int, school: str = "S1", grade: str = "3") -> list[str]:
    return [f"P{n}", school, f"Kid{n}", f"Family{n}", grade, f"N{n}", "", "", "", "", ""]


def students(count: int = 30) -> list[list[str]]:
    rows = [STUDENT_HEADER]
    rows += [student(n, "S1" if n % 2 else "S2", "3" if n % 2 else "7") for n in range(count)]
    # A contact for P1, and the same contact (by sis id) for P3: one person, two students.
    rows.append(["P1", "S1", "Kid1", "Family1", "3", "N1", "Max Family", "Family", "Parent",
                 "max@example.org", "C1"])  # fmt: skip
    rows.append(["P3", "S1", "Kid3", "Family3", "3", "N3", "Max Family", "Family", "Parent",
                 "max@example.org", "C1"])  # fmt: skip
    return rows


SECTIONS = [
    ["Section_id", "School_id", "Teacher_id", "Teacher_2_id", "Teacher_3_id", "Name",
     "Course_name", "Course_number", "Term_name", "Term_start", "Term_end", "Grade", "Period"],
    ["SEC1", "S1", "T1", "T3", "", "Math 3", "Math", "M3", "Fall", "08/20/2025", "12/19/2025",
     "3", "1"],
    ["SEC2", "S2", "T2", "", "", "", "Science", "SC7", "Fall", "08/20/2025", "12/19/2025",
     "7", "2"],
    ["SEC3", "S1", "T3", "", "T1", "Reading", "Reading", "", "Fall", "08/20/2025",
     "12/19/2025", "3", "3"],
]  # fmt: skip


def enrollments(count: int = 30) -> list[list[str]]:
    rows = [["School_id", "Section_id", "Student_id"]]
    for n in range(count):
        school = "S1" if n % 2 else "S2"
        rows.append([school, "SEC1" if school == "S1" else "SEC2", f"P{n}"])
    rows += [["S1", "SEC3", "P1"], ["S1", "SEC3", "P3"]]
    return rows


def to_csv(rows: list[list[str]], *, crlf: bool = False, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def district_files(n_students: int = 30, **overrides: bytes | None) -> dict[str, bytes]:
    """The six files of the test district; ``overrides`` replace (or with None drop) some."""
    files = {
        "schools.csv": to_csv(SCHOOLS),
        "teachers.csv": to_csv(TEACHERS),
        "staff.csv": to_csv(STAFF),
        "students.csv": to_csv(students(n_students)),
        "sections.csv": to_csv(SECTIONS),
        "enrollments.csv": to_csv(enrollments(n_students)),
    }
    for name, data in overrides.items():
        name = name.replace("_csv", ".csv")
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    return files


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def to_zip(files: dict[str, bytes], folder: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return out.getvalue()


@pytest.fixture
def eager():
    """Celery tasks run in this process, as without a broker."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def csv_storage(settings, tmp_path):
    """Roster files kept under this test's own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "csv_files": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "csv-files")},
        },
    }
    settings.SFTP_ROOT = tmp_path / "sftp"
    settings.SFTP_HOST_KEY_FILE = tmp_path / "sftp_host_key"
    return tmp_path / "csv-files"


@pytest.fixture
def district(db) -> District:
    """A CSV district (drop) named "Pine Valley", key pine."""
    return csvservices.csv_district_add(key="pine", name="Pine Valley").csv.district


def sync_zip(district: District, files: dict[str, bytes], **kwargs) -> SyncRun:
    """Upload ``files`` as a zip and run the district's sync on them; the fresh run."""
    received = csvfiles.csv_zip_receive(district=district, upload=io.BytesIO(to_zip(files)))
    run = services.district_sync(district=district, csv_files=received, **kwargs)
    run.refresh_from_db()
    return run
