"""Waiting for a background run (a thread of the web process, or a worker) to end."""

from __future__ import annotations

import time

from rostering.models import SyncRun


def wait_for_run(run_id: int, timeout: float = 60) -> SyncRun:
    """The run once it has ended (a background run: its thread or worker finishes it)."""
    deadline = time.monotonic() + timeout
    while True:
        run = SyncRun.objects.get(pk=run_id)
        if run.status not in (SyncRun.Status.PENDING, SyncRun.Status.RUNNING):
            return run
        assert time.monotonic() < deadline, f"run #{run_id} still {run.status}: {run.progress}"
        time.sleep(0.1)
