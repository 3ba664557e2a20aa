"""Runs asked for from a page (Sync now, Run now, a zip upload): started in the background so the
request returns at once, landing on the run's page.

With a broker (``CELERY_BROKER_URL`` set, tasks not eager) the run is a Celery task; without one
it runs in a thread of this web process, never inside the request: a large district's sync takes
minutes, longer than a browser or proxy waits. Either way the run is recorded (pending) before the
request returns, and the same task function does the work.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import connection, transaction

from rostering.models import District, SyncRun
from rostering.runs import run_pending_create
from rostering.tasks import csv_sync_district, sync_district

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def uses_broker() -> bool:
    """Whether runs go to Celery workers (else: a thread of the web process)."""
    return bool(settings.CELERY_BROKER_URL) and not current_app.conf.task_always_eager


def _in_thread(task: object, *args: object) -> None:
    try:
        task(*args)  # type: ignore[operator]  # a Celery task called directly runs here
    except Exception:
        # Recorded on the run as an internal error (rostering.runs) before it got here.
        logger.exception("background run %s crashed", args)
    finally:
        connection.close()  # this thread's own connection


def district_run_start(
    *, district: District, requested_by: User | None = None, file_ids: list[int] | None = None
) -> SyncRun:
    """Record a manual run of ``district`` (pending) and start it in the background, once the
    current transaction commits; the run's page follows it."""
    run = run_pending_create(
        district=district, trigger=SyncRun.Trigger.MANUAL, requested_by=requested_by
    )
    if district.source == District.Source.CSV:
        task, args = csv_sync_district, (district.pk, SyncRun.Trigger.MANUAL, file_ids, run.pk)
    else:
        task, args = sync_district, (district.pk, SyncRun.Trigger.MANUAL, run.pk)

    def start() -> None:
        if uses_broker():
            task.delay(*args)
            return
        threading.Thread(
            target=_in_thread, args=(task, *args), name=f"run-{run.pk}", daemon=True
        ).start()

    transaction.on_commit(start)
    return run
