"""The engine reads any roster source: typed record batches, no HTTP (the CSV source's seam)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.models import User
from clever.records import (
    CourseRecord,
    DistrictRecord,
    RoleRecord,
    SchoolRecord,
    SectionRecord,
    TermRecord,
    UserRecord,
)
from rostering.models import School, Section, SectionStudent, SectionTeacher, SyncRun
from rostering.runs import run_execute
from rostering.sources import Batch
from rostering.sync.engine import sync_full
from rostering.sync.store import store_for_connection
from tests.factories import DistrictFactory

pytestmark = pytest.mark.django_db


def _school(cid: str, name: str) -> SchoolRecord:
    return SchoolRecord(cid, name, "", "", "", "", "", "")


def _person(cid: str, first: str, role: str) -> UserRecord:
    return UserRecord(cid, first, "Lee", "", "", (RoleRecord(role=role, school="s1"),))


class ListSource:
    """A roster held in lists, in batches of two: what a file-backed source hands the engine."""

    def __init__(self, **records: list) -> None:
        self.records = records
        self.rejected: dict[str, list[tuple[str, str]]] = {}

    def district(self) -> DistrictRecord:
        return DistrictRecord(id="d", name="Lists ISD")

    def latest_event_id(self) -> str:
        return ""

    def batches(self, name: str) -> Iterator[Batch]:
        items = self.records.get(name, [])
        for start in range(0, max(len(items), 1), 2):
            yield Batch(
                where=f"{name}.csv rows {start + 1}-{start + 2}",
                records=items[start : start + 2],
                rejected=self.rejected.pop(name, []),
            )


def _section(*students: str) -> SectionRecord:
    return SectionRecord(
        id="x1",
        school="s1",
        course="c1",
        term="t1",
        name="Algebra 1",
        sis_id="",
        section_number="",
        period="1",
        subject="math",
        grade="9",
        grade_raw="9",
        teachers=("u1",),
        students=students,
    )


def _roster(*students: str) -> dict[str, list]:
    students = students or ("u2", "u3")
    people = {"u1": ("Tara", "teacher"), "u2": ("Molly", "student"), "u3": ("Sam", "student")}
    return {
        "schools": [_school("s1", "North"), _school("s2", "South")],
        "terms": [TermRecord("t1", "Fall", None, None)],
        "courses": [CourseRecord("c1", "Algebra", "MA1")],
        "users": [_person(cid, *people[cid]) for cid in ("u1", *students)],
        "sections": [_section(*students)],
    }


def _run(district, source) -> SyncRun:
    def work(run, log, progress):
        store = store_for_connection(district_id=district.pk, run_id=run.pk)
        return sync_full(run=run, source=source, store=store, errors_log=log, progress=print)

    run = run_execute(district=district, trigger="manual", work=work, after_failure=lambda: "")
    run.refresh_from_db()
    return run


def test_a_source_without_http_is_synced_archived_and_restored_by_the_same_engine(settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 1.0
    district = DistrictFactory()
    run = _run(district, ListSource(**_roster()))
    assert run.status == "succeeded", run.error
    assert run.counts["users"]["created"] == 3 and run.counts["enrollments"]["created"] == 2
    district.refresh_from_db()
    assert district.name == "Lists ISD"
    section = Section.objects.get(clever_id="x1")
    assert (section.school.name, section.course.name, section.term.name) == (
        "North",
        "Algebra",
        "Fall",
    )
    assert SectionTeacher.objects.get(section=section).user.username == "clever-u1"

    # Sam leaves: archived with his enrolment, never deleted; back next time on the same row.
    run = _run(district, ListSource(**_roster("u2")))
    assert run.status == "succeeded", run.error
    sam = User.objects.get(clever_id="u3")
    assert sam.archived_at is not None
    assert SectionStudent.objects.get(user=sam).archived_at is not None
    run = _run(district, ListSource(**_roster()))
    assert run.counts["users"]["restored"] == 1
    back = User.objects.get(clever_id="u3")
    assert back.pk == sam.pk and back.archived_at is None
    assert SectionStudent.objects.get(user=back).archived_at is None


def test_a_record_the_source_names_but_cannot_read_is_kept_and_reported():
    district = DistrictFactory()
    assert _run(district, ListSource(**_roster())).status == "succeeded"
    roster = _roster()
    roster["schools"] = roster["schools"][:1]
    source = ListSource(**roster)
    source.rejected["schools"] = [("s2", "schools.csv line 3: Low_grade 'Q' is not a grade")]
    run = _run(district, source)
    assert run.status == "succeeded", run.error
    assert School.objects.get(clever_id="s2").archived_at is None  # kept as it was
    (error,) = run.errors.all()
    assert (error.record_type, error.clever_id) == ("school", "s2")
    assert "line 3" in error.message


def test_a_record_twice_in_one_source_fails_the_run_and_archives_nothing():
    district = DistrictFactory()
    assert _run(district, ListSource(**_roster())).status == "succeeded"
    roster = _roster()
    roster["users"] = [*roster["users"][:2], _person("u2", "Molly again", "student")]
    run = _run(district, ListSource(**roster))
    assert run.status == "failed" and run.failure == "permanent"
    assert "user u2 twice" in run.error
    assert run.stopped_at == "users.csv rows 3-4"
    assert User.objects.get(clever_id="u3").archived_at is None
    assert User.objects.get(clever_id="u2").first_name == "Molly"
