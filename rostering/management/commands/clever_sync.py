"""python manage.py clever_sync [--district CLEVER_ID] [--dry-run]: sync now, in this process."""

from __future__ import annotations

from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import Error as DatabaseError
from tqdm import tqdm

from clever import errors
from rostering import connections, services
from rostering.models import District, SyncRun
from rostering.runs import ReadStep
from rostering.sync.specs import ALL_NAMES

_COLUMNS = ("created", "updated", "unchanged", "archived", "restored")


def format_counts(run: SyncRun) -> list[str]:
    """The run's counts as an aligned table, one line per type."""
    lines = [f"  {'':<22}" + "".join(f"{c:>11}" for c in _COLUMNS)]
    for name in ALL_NAMES:
        counts = run.counts.get(name)
        if counts:
            lines.append(f"  {name:<22}" + "".join(f"{counts.get(c, 0):>11}" for c in _COLUMNS))
    errors = (run.counts.get("errors") or {}).get("count", 0)
    if errors:
        lines.append(f"  {errors} record(s) could not be taken as they are (see the run's errors)")
    return lines


def _expected(district: District) -> dict[str, int]:
    """Records per type the district's last successful sync saw: the bars' totals."""
    last = (
        SyncRun.objects.filter(district=district, status=SyncRun.Status.SUCCEEDED, dry_run=False)
        .order_by("-created_at")
        .first()
    )
    if last is None:
        return {}
    return {
        name: sum(c.get(k, 0) for k in ("created", "updated", "unchanged", "restored"))
        for name, c in last.counts.items()
        if isinstance(c, dict) and name != "errors"
    }


class ProgressBars:
    """On a terminal: a bar per record type as it is read (out of what the last sync saw, when
    known) with each other step printed above; elsewhere, one plain line per step."""

    def __init__(self, out: TextIO, *, district: District, tty: bool) -> None:
        self.out, self.tty = out, tty
        self.expected = _expected(district) if tty else {}
        self.bars: dict[str, tqdm] = {}

    def __call__(self, message: str) -> None:
        if not self.tty:
            self.out.write(f"  {message}\n")
            return
        if isinstance(message, ReadStep):
            bar = self.bars.get(message.record_type)
            if bar is None:
                for other in self.bars.values():
                    other.close()
                total = self.expected.get(message.record_type) or None
                bar = tqdm(
                    total=total, desc=f"  {message.record_type:<10}", unit=" rec", file=self.out
                )
                self.bars[message.record_type] = bar
            if bar.total is not None and message.total > bar.total:
                bar.total = message.total
            bar.update(message.total - bar.n)
            return
        tqdm.write(f"  {message}", file=self.out)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = (
        "Sync districts from Clever now (synchronously), printing progress and counts. "
        "Without --district: refresh connections from Clever's token list, then sync every "
        "connected district. Exits non-zero if a run fails or needs review."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", metavar="CLEVER_ID", help="only this district")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="compute the plan (creates, updates, archives, restores) without writing",
        )
        parser.add_argument(
            "--events",
            action="store_true",
            help="apply the districts' new Clever events instead of a full sync",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clever_id = options["district"]
        if clever_id:
            district = connections.district_ensure_connected(clever_id=clever_id)
            if district is None:
                raise CommandError(
                    f"District {clever_id} is not connected: Clever does not list a token for it."
                )
            districts = [district]
        else:
            try:
                result = connections.district_connections_refresh()
                self.stdout.write(
                    f"Connections: {len(result.created)} new, {len(result.disconnected)} "
                    "disconnected."
                )
                for problem in result.problems:
                    self.stderr.write(f"Clever's district record: {problem}")
            except errors.CleverError as exc:
                self.stderr.write(f"Could not refresh connections from Clever: {exc}")
            districts = list(
                District.objects.filter(
                    status=District.Status.CONNECTED, source=District.Source.CLEVER
                )
            )
            if not districts:
                self.stdout.write("No connected districts.")
                return
        failed = []
        for district in districts:
            try:
                if options["events"]:
                    failed += self._events(district)
                else:
                    failed += self._sync(district, dry_run=options["dry_run"])
            except DatabaseError as exc:
                # The database went away mid-run: the run's record could not be finished; the
                # next run (or the five-minute beat task) marks it failed once its heartbeat stops.
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise CommandError(
                    f"{district.name or district.clever_id}: lost the database "
                    f"({exc.__class__.__name__}: {first_line}). Nothing after the last commit "
                    "was applied; run the sync again once the database is back."
                ) from None
        if failed:
            raise CommandError("; ".join(failed))

    def _events(self, district: District) -> list[str]:
        label = f"{district.name or district.clever_id} ({district.clever_id})"
        self.stdout.write(f"Applying events for {label}...")
        run = services.district_events_apply(
            district=district, progress=lambda message: self.stdout.write(f"  {message}")
        )
        self.stdout.write(f"Run #{run.pk}: {run.status}")
        if run.counts:
            self.stdout.write("\n".join(format_counts(run)))
        if run.status == SyncRun.Status.FAILED:
            return [f"{label}: run #{run.pk} failed at {run.stopped_at}: {run.error}"]
        return []

    def _sync(self, district: District, *, dry_run: bool) -> list[str]:
        label = f"{district.name or district.clever_id} ({district.clever_id})"
        self.stdout.write(f"Syncing {label}{' (dry run)' if dry_run else ''}...")
        bars = ProgressBars(self.stdout._out, district=district, tty=self.stdout.isatty())
        try:
            run = services.district_sync(
                district=district, trigger=SyncRun.Trigger.MANUAL, dry_run=dry_run, progress=bars
            )
        finally:
            bars.close()
        self.stdout.write(f"Run #{run.pk}: {run.status}")
        if run.counts:
            self.stdout.write("\n".join(format_counts(run)))
        if run.status == SyncRun.Status.SUCCEEDED:
            return []
        if run.status == SyncRun.Status.SKIPPED:
            self.stdout.write(run.error)
            return []
        if run.status == SyncRun.Status.NEEDS_REVIEW:
            for reason in run.plan.get("reasons", []):
                self.stdout.write(f"  guard: {reason}")
            return [
                f"{label}: run #{run.pk} needs review (nothing archived); approve or discard it "
                "in the admin"
            ]
        where = f" at {run.stopped_at}" if run.stopped_at else ""
        return [f"{label}: run #{run.pk} failed{where}: {run.error}"]
