"""A CSV run's memory is bounded whatever the file size: the ids it checks are held on disk."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from accounts.models import User
from bench.gen_district import generate
from rostering import csvheld
from rostering.csvsource import CsvSource, scoped_id
from rostering.models import CsvRunFile, SectionStudent, SectionTeacher, SyncError, SyncRun
from tests.csv.conftest import sync_zip

NAMES = ("schools", "terms", "courses", "users", "sections")


def _peak_bytes(district, folder: Path) -> tuple[int, int]:
    """(peak Python memory while every batch of ``folder`` is read, rows handed on)."""
    files = {p.name: (lambda p=p: p.open("rb")) for p in folder.glob("*.csv")}
    source = CsvSource(district=district, files=files, log=[])
    rows = 0
    tracemalloc.start()
    try:
        for name in NAMES:
            for batch in source.batches(name):
                rows += len(batch.records) + sum(len(v) for v in batch.rows.values())
                del batch
        return tracemalloc.get_traced_memory()[1], rows
    finally:
        tracemalloc.stop()
        source.close()


def test_reading_four_times_the_students_takes_no_more_memory(district, tmp_path, sync_store):
    if sync_store != "postgres":
        pytest.skip("the source reads the same whatever the store (run once, on PostgreSQL)")
    generate(5000, tmp_path / "small")
    generate(20000, tmp_path / "large")
    small, small_rows = _peak_bytes(district, tmp_path / "small")
    large, large_rows = _peak_bytes(district, tmp_path / "large")
    assert large_rows > 3.9 * small_rows
    # Holding the ids in Python took ~400 bytes a student (6 MB more here); the batches handed
    # on are the same size in both, so the peaks are too.
    assert large - small < 1_000_000, (small, large)


def test_ids_spilled_to_disk_check_the_same_rules(district, tmp_path, monkeypatch):
    # A page cache of a few pages and no memo: every check reads SQLite's file.
    monkeypatch.setattr(csvheld, "CACHE_KIB", 16)
    monkeypatch.setattr(csvheld, "_MEMO", 0)
    counts = generate(2000, tmp_path / "d")
    files = {p.name: p.read_bytes() for p in (tmp_path / "d").glob("*.csv")}
    students = files["students.csv"].decode().splitlines()
    # A repeat of S5 with another name, appended at line 2000 + contacts + 2.
    s5 = next(line for line in students if line.split(",")[1] == "S5").split(",")
    s5[3] = "Renamed"
    files["students.csv"] += (",".join(s5) + "\n").encode()
    repeat_line = len(students) + 1
    files["enrollments.csv"] += b"SCH0,SEC404,S1\nSCH0,SEC0,S404404\n"
    enrol_lines = len(files["enrollments.csv"].decode().splitlines())
    run = sync_zip(district, files)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    errors = sorted(SyncError.objects.filter(run=run).values_list("message", flat=True))
    assert errors == [
        f"enrollments.csv line {enrol_lines - 1}: Section_id 'SEC404' is not in sections.csv; "
        "row skipped",
        f"enrollments.csv line {enrol_lines}: Student_id 'S404404' is not in students.csv; "
        "row skipped",
        f"students.csv line {repeat_line}: Student_id 'S5' repeats line 7 with different "
        "student columns (repeat a student only to add a contact); row skipped",
    ]
    students_held = User.objects.filter(district=district, clever_roles__role="student")
    assert students_held.count() == counts["students"]
    assert User.objects.get(clever_id=scoped_id(district.pk, "stu", "S5")).last_name != "Renamed"
    assert (
        SectionStudent.objects.filter(section__district=district).count() == (counts["enrollments"])
    )
    assert SectionTeacher.objects.filter(section__district=district).count() > counts["sections"]
    by_file = {f.file.name: (f.rows_read, f.rows_skipped) for f in run.csv_files.all()}
    assert by_file["enrollments.csv"] == (counts["enrollments"] + 2, 2)
    assert by_file["students.csv"][1] == 1
    assert CsvRunFile.objects.filter(run=run).count() == 6
