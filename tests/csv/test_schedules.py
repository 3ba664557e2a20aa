"""Schedules and the quiet period: what is due, claimed once, and run by the beat task."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from rostering import csvfiles, csvservices, tasks
from rostering.models import CsvDistrict, CsvSchedule, SyncRun
from tests.csv.conftest import district_files


def test_next_start_of_each_kind():
    now = dt.datetime(2030, 5, 1, 10, 15, tzinfo=dt.UTC)
    at = dt.datetime(2030, 1, 1, 6, 30, tzinfo=dt.UTC)
    assert csvservices.schedule_next("daily", at, now) == now.replace(
        day=2, hour=6, minute=30, second=0
    )
    assert csvservices.schedule_next("hourly", at, now) == now.replace(minute=30, second=0)
    assert csvservices.schedule_next("once", at, now) is None
    later = now + dt.timedelta(hours=3)
    assert csvservices.schedule_next("once", later, now) == later


def test_a_one_off_runs_once_then_is_spent_and_can_no_longer_change(district, eager):
    csv = district.csv
    for name, data in district_files().items():
        csvfiles.csv_file_receive(district=district, name=name, stream=io.BytesIO(data), via="drop")
    soon = timezone.now() + dt.timedelta(minutes=5)
    schedule = csvservices.csv_schedule_save(csv=csv, kind="once", at=soon)
    assert schedule.next_run_at == soon
    with pytest.raises(ValueError, match="future time"):
        csvservices.csv_schedule_save(csv=csv, kind="once", at=timezone.now(), schedule=schedule)
    assert csvservices.csv_runs_due() == []  # not yet
    due = csvservices.csv_runs_due(now=soon + dt.timedelta(seconds=1))
    assert due == [(district.pk, SyncRun.Trigger.SCHEDULED)]
    assert csvservices.csv_runs_due(now=soon + dt.timedelta(seconds=2)) == []  # claimed once
    schedule.refresh_from_db()
    assert schedule.next_run_at is None
    with pytest.raises(ValueError, match="already started"):
        csvservices.csv_schedule_remove(schedule=schedule)
    assert tasks.csv_sync_district(district.pk, SyncRun.Trigger.SCHEDULED) == "succeeded"


def test_a_daily_schedule_moves_on_and_a_quiet_drop_is_due(district):
    csv = district.csv
    at = timezone.now().replace(hour=1, minute=0)
    schedule = csvservices.csv_schedule_save(csv=csv, kind="daily", at=at)
    first = schedule.next_run_at
    assert csvservices.csv_runs_due(now=first) == [(district.pk, "scheduled")]
    schedule.refresh_from_db()
    assert schedule.next_run_at == first + dt.timedelta(days=1)
    CsvDistrict.objects.filter(pk=csv.pk).update(
        files_pending=True, last_activity_at=timezone.now()
    )
    assert csvservices.csv_runs_due() == []  # still within CSV_QUIET_SECONDS
    quiet = timezone.now() + dt.timedelta(seconds=301)
    assert csvservices.csv_runs_due(now=quiet, drops_only=True) == [(district.pk, "scheduled")]
    assert not CsvDistrict.objects.get(pk=csv.pk).files_pending
    csvservices.csv_schedule_remove(schedule=schedule)
    assert not CsvSchedule.objects.exists()


def test_the_beat_schedule_drives_csv_runs(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["csv-due-runs"]
    assert entry["task"] == "rostering.tasks.csv_run_due"
