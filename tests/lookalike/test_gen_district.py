"""bench/gen_district.py writes a valid district of the promised shape."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from django.conf import settings

from bench.gen_district import generate
from cleverlike.build import district_id_for
from rostering.csvformat import parse_folder


def test_1000_students_give_40_sections_of_30_and_parse(tmp_path: Path) -> None:
    counts = generate(1000, tmp_path / "d")
    roster = parse_folder(tmp_path / "d")
    assert len(roster.students) == 1000 == counts["students"]
    assert len(roster.sections) == 40
    assert len(roster.enrollments) == 1200
    assert set(Counter(e.section_id for e in roster.enrollments).values()) == {30}
    assert roster.teachers and roster.staff
    assert any(len(s.teacher_ids) == 2 for s in roster.sections)
    assert sum(1 for s in roster.students if s.contacts) == 334


def test_same_seed_same_files_other_seed_other_enrolments(tmp_path: Path) -> None:
    generate(500, tmp_path / "a", seed=3)
    generate(500, tmp_path / "b", seed=3)
    generate(500, tmp_path / "c", seed=4)
    read = lambda p: (p / "enrollments.csv").read_bytes()  # noqa: E731
    assert read(tmp_path / "a") == read(tmp_path / "b") != read(tmp_path / "c")


def test_the_lookalike_serves_a_generated_district(clever, tmp_path: Path) -> None:
    folder = tmp_path / "synthetic"
    generate(2000, folder)
    d = clever.world.load_district(folder)
    assert d.id == district_id_for("synthetic")
    assert len(clever.world.users(d.id, role="student")) == 2000
    assert len(clever.world.records(d.id, "sections")) == 80


def test_command_line_rejects_a_bad_count(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/gen_district.py", "--students", "0", "--out", str(tmp_path)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "--students must be at least 1" in result.stderr
