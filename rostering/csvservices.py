"""Services of CSV districts: adding them, their drop logins, their runs and schedules.

A CSV district's run enters at ``rostering.services.district_sync`` like any other and is
recorded by ``rostering.runs.run_execute``; ``csv_district_sync`` is its work: take the files
(the drop's newest, a fetch from the district's server, or a zip), refuse them before anything
is written when a required file or column is missing or a file is not UTF-8, then hand them to
the sync engine through ``rostering.csvsource.CsvSource`` and record per-file counts and notes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import asyncssh
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from rostering import csvfiles, sftpfetch
from rostering.csvformat import CsvFormatError
from rostering.csvsource import CsvSource
from rostering.models import (
    CsvDistrict,
    CsvFile,
    CsvRunFile,
    CsvRunNote,
    CsvSchedule,
    District,
    SyncRun,
)
from rostering.runs import ErrorLog, RunProgress, RunRefused, RunResult, run_execute
from rostering.sync.engine import Progress, sync_full
from rostering.sync.store import store_for_connection

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")


@dataclass(frozen=True)
class FetchTarget:
    """Where a district's files are fetched from (``sftp://USER@HOST[:PORT]/PATH``)."""

    host: str
    port: int
    username: str
    folder: str


def fetch_target_parse(value: str) -> FetchTarget:
    """Read an SFTP address; a pasted ``sftp://`` is optional; raises ValueError saying why."""
    text = value.strip()
    if "://" not in text:
        text = f"sftp://{text}"
    parts = urlsplit(text)
    if parts.scheme != "sftp":
        raise ValueError(f"{value!r} is not an SFTP address (sftp://USER@HOST[:PORT]/PATH)")
    if not parts.hostname:
        raise ValueError(f"{value!r} names no host")
    if not parts.username:
        raise ValueError(f"{value!r} names no user (sftp://USER@HOST/PATH)")
    if parts.password:
        raise ValueError("Put the password in a file (--password-file), never in the address")
    try:
        port = parts.port or 22
    except ValueError:
        raise ValueError(f"{value!r} has a port that is not a number") from None
    folder = unquote(parts.path.lstrip("/")) or "."
    return FetchTarget(parts.hostname, port, unquote(parts.username), folder)


@dataclass
class CsvDistrictAdded:
    csv: CsvDistrict
    created: bool
    password: str = ""  # the drop password when one was generated now (shown once)


def csv_district_add(
    *,
    key: str,
    name: str,
    fetch: FetchTarget | None = None,
    fetch_password: str = "",
    fetch_private_key: str = "",
    authorized_key: str = "",
    new_password: bool = False,
) -> CsvDistrictAdded:
    """Create or update the CSV district ``key``; a new drop district gets a generated password."""
    if not KEY_PATTERN.match(key):
        raise ValueError(
            f"KEY {key!r} must be 2-40 lowercase letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )
    if authorized_key:
        try:
            asyncssh.import_authorized_keys(authorized_key)
        except (ValueError, asyncssh.KeyImportError) as exc:
            raise ValueError(f"The authorized key cannot be read: {exc}") from None
    if fetch is not None and not (fetch_password or fetch_private_key):
        raise ValueError("Fetching needs the server's password or a private key")
    if fetch_private_key:
        try:
            asyncssh.import_private_key(fetch_private_key)
        except (ValueError, asyncssh.KeyImportError) as exc:
            raise ValueError(f"The private key cannot be read: {exc}") from None
    with transaction.atomic():
        csv = CsvDistrict.objects.select_related("district").filter(key=key).first()
        created = csv is None
        if created:
            district = District.objects.create(
                clever_id=f"csv:{key}",
                name=name,
                source=District.Source.CSV,
                status=District.Status.CONNECTED,
                connected_at=timezone.now(),
            )
            csv = CsvDistrict(district=district, key=key)
        elif name and csv.district.name != name:
            csv.district.name = name
            csv.district.save(update_fields=["name", "updated_at"])
        if fetch is not None:
            if (fetch.host, fetch.port) != (csv.fetch_host, csv.fetch_port):
                csv.fetch_host_key = ""  # a new server is trusted afresh on first contact
            csv.fetch_host, csv.fetch_port = fetch.host, fetch.port
            csv.fetch_username, csv.fetch_folder = fetch.username, fetch.folder
            csv.set_fetch_secrets(password=fetch_password, private_key=fetch_private_key)
        if authorized_key:
            csv.authorized_keys = authorized_key.strip()
        password = ""
        wants_drop_password = not csv.fetches and not csv.authorized_keys
        if new_password or (wants_drop_password and not csv.sftp_password_hash):
            password = secrets.token_urlsafe(18)
            csv.sftp_password_hash = make_password(password)
        csv.save()
    return CsvDistrictAdded(csv=csv, created=created, password=password)


def csv_login_check(*, username: str, password: str) -> CsvDistrict | None:
    """The drop district whose login this is (password), or None."""
    csv = CsvDistrict.objects.select_related("district").filter(key=username).first()
    if csv is None or not csv.sftp_password_hash:
        # Spend the same time as a real check, so a wrong username is not told apart.
        check_password(password, make_password(None))
        return None
    if csv.district.status != District.Status.CONNECTED:
        return None
    return csv if check_password(password, csv.sftp_password_hash) else None


def csv_authorized_keys(*, username: str) -> str:
    """The OpenSSH authorized keys of a connected drop district ("" when none)."""
    csv = CsvDistrict.objects.select_related("district").filter(key=username).first()
    if csv is None or csv.district.status != District.Status.CONNECTED:
        return ""
    return csv.authorized_keys


def csv_drop_activity(*, key: str, file: CsvFile | None = None) -> None:
    """Note upload activity on a district's drop (a stored file marks its files pending)."""
    fields = {"last_activity_at": timezone.now()}
    if file is not None:
        fields["files_pending"] = True
    CsvDistrict.objects.filter(key=key).update(**fields)


def _files_for_run(district: District, csv: CsvDistrict, files: list[CsvFile] | None):
    if files is not None:
        return files
    if csv.fetches:
        return sftpfetch.fetch_files(csv=csv)
    # The drop: the newest upload of each file (Clever's drop too keeps the last one).
    CsvDistrict.objects.filter(pk=csv.pk).update(files_pending=False)
    return csvfiles.csv_files_latest(district=district, via=[CsvFile.Via.DROP])


def csv_district_sync(
    *,
    district: District,
    trigger: str = SyncRun.Trigger.MANUAL,
    dry_run: bool = False,
    files: list[CsvFile] | None = None,
    requested_by: User | None = None,
    progress: Progress | None = None,
    run: SyncRun | None = None,
) -> SyncRun:
    """Run one sync of a CSV district from its files (``files``, else the drop's or a fetch)."""
    csv = CsvDistrict.objects.get(district=district)

    def work(run: SyncRun, log: ErrorLog, say: RunProgress) -> RunResult:
        try:
            taken = _files_for_run(district, csv, files)
        except sftpfetch.FetchError as exc:
            raise RunRefused(f"Could not fetch the files: {exc}. Nothing was written.") from None
        by_name = {f.name: f for f in taken}
        for f in taken:
            say(f"{f.name}: {f.size} bytes, received {f.received_at:%Y-%m-%d %H:%M:%S} UTC")
        source = CsvSource(
            district=district,
            files={name: (lambda f=f: csvfiles.csv_file_open(f)) for name, f in by_name.items()},
            log=log,
            roles=tuple(settings.CLEVER_SYNC_USER_ROLES),
        )
        try:
            problems = source.check()
            if problems:
                raise RunRefused(
                    "The files were refused before anything was written:\n" + "\n".join(problems)
                )
            store = store_for_connection(district_id=district.pk, run_id=run.pk)
            try:
                result = sync_full(
                    run=run, source=source, store=store, errors_log=log, progress=say
                )
            except CsvFormatError as exc:
                raise RunRefused(
                    "; ".join(str(e) for e in exc.errors) + ". Nothing was written."
                ) from None
            for note in source.notes:
                say(note)
            CsvRunNote.objects.bulk_create([CsvRunNote(run=run, message=n) for n in source.notes])
            return result
        finally:
            source.close()  # the ids it held (a temporary file once they outgrow its cache)
            CsvRunFile.objects.bulk_create(
                [
                    CsvRunFile(
                        run=run,
                        file=f,
                        rows_read=source.stats[name].read,
                        rows_applied=source.stats[name].applied,
                        rows_skipped=source.stats[name].skipped,
                    )
                    for name, f in by_name.items()
                ]
            )
            for name, stats in source.stats.items():
                say(
                    f"{name}: {stats.read} rows read, {stats.applied} applied, "
                    f"{stats.skipped} skipped"
                )

    return run_execute(
        district=district,
        trigger=trigger,
        work=work,
        after_failure=lambda: "Nothing was archived.",
        dry_run=dry_run,
        requested_by=requested_by,
        progress=progress,
        run=run,
    )


# --- Schedules --------------------------------------------------------------------------------


def schedule_next(kind: str, at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The next start of a schedule after ``now`` (None: a one-off already started)."""
    if kind == CsvSchedule.Kind.ONCE:
        return at if at > now else None
    if kind == CsvSchedule.Kind.HOURLY:
        candidate = now.replace(minute=at.minute, second=0, microsecond=0)
        return candidate if candidate > now else candidate + dt.timedelta(hours=1)
    candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


def csv_schedule_save(
    *, csv: CsvDistrict, kind: str, at: dt.datetime, schedule: CsvSchedule | None = None
) -> CsvSchedule:
    """Create or change a schedule (only while it is pending); its next start is computed."""
    now = timezone.now()
    if kind not in CsvSchedule.Kind.values:
        raise ValueError(f"A schedule is one of {', '.join(CsvSchedule.Kind.values)}, not {kind}")
    if kind == CsvSchedule.Kind.ONCE and at <= now:
        raise ValueError("A one-off run must be at a future time")
    if schedule is not None and schedule.next_run_at is None:
        raise ValueError("This run already started: it can no longer be changed")
    schedule = schedule or CsvSchedule(csv=csv)
    schedule.kind, schedule.at = kind, at
    schedule.next_run_at = schedule_next(kind, at, now)
    schedule.save()
    return schedule


def csv_schedule_remove(*, schedule: CsvSchedule) -> None:
    """Remove a pending schedule (a started one-off is history, not a schedule)."""
    if schedule.next_run_at is None:
        raise ValueError("This run already started: it can no longer be removed")
    schedule.delete()


def csv_runs_due(
    *, now: dt.datetime | None = None, drops_only: bool = False
) -> list[tuple[int, str]]:
    """Claim the CSV runs due now: (district pk, trigger) for each, each claimed once.

    Due are schedules whose next start has come, and drops whose files arrived and have been
    quiet for CSV_QUIET_SECONDS. Claiming moves the schedule on (or spends a one-off) and
    clears the drop's pending flag with a conditional UPDATE, so two beat ticks (or the SFTP
    service and beat) never start the same run twice.
    """
    now = now or timezone.now()
    due: list[tuple[int, str]] = []
    due_now = CsvSchedule.objects.filter(next_run_at__lte=now).select_related("csv__district")
    if drops_only:
        due_now = due_now.none()  # the SFTP service starts drops; beat runs the schedules
    for schedule in due_now:
        following = schedule_next(schedule.kind, schedule.at, now)
        claimed = CsvSchedule.objects.filter(
            pk=schedule.pk, next_run_at=schedule.next_run_at
        ).update(next_run_at=following)
        if claimed and schedule.csv.district.status == District.Status.CONNECTED:
            due.append((schedule.csv.district_id, SyncRun.Trigger.SCHEDULED))
    quiet = now - dt.timedelta(seconds=settings.CSV_QUIET_SECONDS)
    ready = CsvDistrict.objects.filter(
        files_pending=True,
        last_activity_at__lte=quiet,
        fetch_host="",
        district__status=District.Status.CONNECTED,
    )
    for csv in ready:
        if CsvDistrict.objects.filter(pk=csv.pk, files_pending=True).update(files_pending=False):
            due.append((csv.district_id, SyncRun.Trigger.SCHEDULED))
    return due


def csv_drop_pending_again(*, district: District) -> None:
    """Mark a drop's files pending again (its run was skipped: the next tick takes them)."""
    CsvDistrict.objects.filter(district=district, fetch_host="").update(files_pending=True)
