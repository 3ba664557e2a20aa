"""A run as its page shows it: what it is doing or how it ended, in words, with its counts.

Read by the run page, its live block and the district page, so a run reads the same wherever it
is shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.utils import timezone

from rostering.models import SyncRun
from rostering.sync.specs import ALL_NAMES

COLUMNS = ("created", "updated", "unchanged", "archived", "held", "restored")


def elapsed_words(seconds: float) -> str:
    """ "4 s", "2 min 5 s", "1 h 3 min"."""
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@dataclass
class RunView:
    live: bool
    outcome: str  # one sentence: what the run is doing, or how it ended
    tone: str  # ok | bad | warn | busy
    elapsed: str
    # Counts per type: (type, created, updated, unchanged, archived, held, restored).
    counts: list[tuple[str, ...]] = field(default_factory=list)
    show_held: bool = False
    # While it runs: records read so far per type.
    read: list[tuple[str, int]] = field(default_factory=list)
    errors: int = 0


def _outcome(run: SyncRun, now: dt.datetime) -> tuple[str, str]:
    status = run.status
    if status == SyncRun.Status.PENDING:
        where = (
            "queued for a Celery worker"
            if settings.CELERY_BROKER_URL and not current_app.conf.task_always_eager
            else "starting in the background"
        )
        return f"Waiting to start ({where}, asked at {run.created_at:%Y-%m-%d %H:%M:%S} UTC).", (
            "busy"
        )
    if status == SyncRun.Status.RUNNING:
        return "Running.", "busy"
    if status == SyncRun.Status.SUCCEEDED:
        what = "Dry run finished: nothing was written." if run.dry_run else "Succeeded."
        if run.reviewed_at:
            who = run.reviewed_by.username if run.reviewed_by else "someone"
            what = f"Approved by {who} at {run.reviewed_at:%Y-%m-%d %H:%M} UTC: archives applied."
        return what, "ok"
    if status == SyncRun.Status.NEEDS_REVIEW:
        return (
            "Held for review: everything but the archives below was applied; nothing was "
            "archived. Approve to archive them, or discard to archive nothing.",
            "warn",
        )
    if status == SyncRun.Status.DISCARDED:
        why = run.error or "Discarded: nothing was archived."
        if run.reviewed_at:
            who = run.reviewed_by.username if run.reviewed_by else "someone"
            why = f"Discarded by {who} at {run.reviewed_at:%Y-%m-%d %H:%M} UTC: nothing archived."
        return why, "warn"
    if status == SyncRun.Status.SKIPPED:
        return run.error or "Skipped.", "warn"
    where = f" at {run.stopped_at}" if run.stopped_at else ""
    return f"Failed{where}: {run.error or 'no reason recorded'}", "bad"


def run_view(run: SyncRun, *, now: dt.datetime | None = None) -> RunView:
    """How ``run`` reads on its page."""
    now = now or timezone.now()
    live = run.status in (SyncRun.Status.PENDING, SyncRun.Status.RUNNING)
    outcome, tone = _outcome(run, now)
    start = run.started_at
    end = run.finished_at or now
    elapsed = elapsed_words((end - start).total_seconds()) if run.started_at else ""
    counts = [
        (name, *(str(run.counts[name].get(c, 0)) for c in COLUMNS))
        for name in ALL_NAMES
        if isinstance(run.counts.get(name), dict)
    ]
    show_held = any(row[5] != "0" for row in counts)
    read = [(name, run.progress_counts[name]) for name in ALL_NAMES if name in run.progress_counts]
    errors = (run.counts.get("errors") or {}).get("count", 0)
    return RunView(live, outcome, tone, elapsed, counts, show_held, read, errors)
