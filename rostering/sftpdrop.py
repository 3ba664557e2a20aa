"""Our SFTP drop (asyncssh): school systems push Clever-format CSV files, as to Clever's.

Each CSV district logs in as its KEY, with its password (checked against the stored hash) or an
authorized public key, and is chrooted to its own folder under ``SFTP_ROOT``: nothing else is
reachable. Only the roster files (and a client's temporary upload names) may be written. Each
finished upload (close, or rename onto a roster name) is stored through Django's storage as a
``CsvFile`` (time, size, checksum), so web and workers never read this service's disk. The
district's files are processed ``CSV_QUIET_SECONDS`` after its last upload activity, as Clever
does (``rostering.csvservices.csv_runs_due``), by a Celery task (in this process without a
broker); ``csv_sync KEY`` processes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import posixpath
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from rostering import csvfiles, csvservices, tasks
from rostering.models import CsvDistrict, CsvFile

logger = logging.getLogger(__name__)

# Upload activity is written to the database at most this often per district (seconds).
ACTIVITY_EVERY = 5.0
# Names a client may write besides the roster files: temporary names it renames afterwards.
_TEMP_SUFFIXES = (".filepart", ".part", ".tmp")


def host_key(path: Path) -> asyncssh.SSHKey:
    """The service's host key, generated (ed25519, mode 0600) the first time."""
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
    logger.info("Generated the SFTP host key %s", path)
    return key


def _store(key: str, name: str, local: str) -> CsvFile | None:
    """Keep a finished upload through Django's storage and mark the district's files pending."""
    try:
        csv = CsvDistrict.objects.select_related("district").get(key=key)
        with open(local, "rb") as stream:
            file = csvfiles.csv_file_receive(
                district=csv.district, name=name, stream=stream, via=CsvFile.Via.DROP
            )
        csvservices.csv_drop_activity(key=key, file=file)
        logger.info("SFTP drop %s: received %s (%d bytes)", key, name, file.size)
        return file
    finally:
        connection.close()  # this executor thread's own connection


def _closing(fn: Any, **kwargs: Any) -> Any:
    """``fn(**kwargs)`` on a worker thread, closing that thread's database connection after."""
    try:
        return fn(**kwargs)
    finally:
        connection.close()


def _activity(key: str) -> None:
    try:
        csvservices.csv_drop_activity(key=key)
    finally:
        connection.close()  # this executor thread's own connection


class DropSFTPServer(asyncssh.SFTPServer):
    """One district's SFTP session, chrooted to its folder."""

    def __init__(self, chan: asyncssh.SSHServerChannel) -> None:
        self.key = chan.get_extra_info("username")
        root = Path(settings.SFTP_ROOT) / self.key
        root.mkdir(parents=True, exist_ok=True)
        super().__init__(chan, chroot=str(root))
        self._writing: dict[Any, bytes] = {}
        self._last_activity = 0.0

    def _touch(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_activity >= ACTIVITY_EVERY:
            self._last_activity = loop.time()
            loop.run_in_executor(None, _activity, self.key)

    @staticmethod
    def _name(path: bytes) -> str:
        return posixpath.basename(path.decode("utf-8", "replace"))

    def _at_top(self, path: bytes) -> bool:
        return posixpath.dirname(posixpath.normpath("/" + path.decode("utf-8", "replace"))) == "/"

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        writing = pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT)
        if writing:
            name = self._name(path)
            allowed = name in csvfiles.EXPECTED_FILES or name.endswith(_TEMP_SUFFIXES)
            if not allowed or not self._at_top(path):
                raise asyncssh.SFTPPermissionDenied(
                    f"only {', '.join(csvfiles.EXPECTED_FILES)} may be uploaded, in this folder"
                )
        handle = super().open(path, pflags, attrs)
        if writing:
            self._writing[handle] = path
            self._touch()
        return handle

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        self._touch()
        return super().write(file_obj, offset, data)

    async def close(self, file_obj: object) -> None:
        super().close(file_obj)
        path = self._writing.pop(file_obj, None)
        if path is not None:
            await self._finished(path)

    async def _finished(self, path: bytes) -> None:
        name = self._name(path)
        if name in csvfiles.EXPECTED_FILES and self._at_top(path):
            local = self.map_path(path).decode()
            await asyncio.get_running_loop().run_in_executor(None, _store, self.key, name, local)

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        await self._finished(newpath)

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        await self._finished(newpath)

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("links are not allowed")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("links are not allowed")


class DropSSHServer(asyncssh.SSHServer):
    """Logins: a CSV district's KEY with its password or an authorized key; nothing else."""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    async def begin_auth(self, username: str) -> bool:
        keys = await sync_to_async(_closing)(csvservices.csv_authorized_keys, username=username)
        if keys:
            self._conn.set_authorized_keys(asyncssh.import_authorized_keys(keys))
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        csv = await sync_to_async(_closing)(
            csvservices.csv_login_check, username=username, password=password
        )
        if csv is None:
            logger.info("SFTP drop: refused a password login as %r", username[:40])
        return csv is not None

    def public_key_auth_supported(self) -> bool:
        return True


def _run_due() -> int:
    """Start the drop runs now due (quiet long enough); each through the Celery task."""
    try:
        due = csvservices.csv_runs_due(drops_only=True)
        for district_id, trigger in due:
            tasks.csv_sync_district.delay(district_id, trigger)
        return len(due)
    finally:
        connection.close()  # this executor thread's own connection


async def _watch_quiet(stop: asyncio.Event) -> None:
    every = max(0.5, min(30.0, settings.CSV_QUIET_SECONDS / 5))
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await loop.run_in_executor(None, _run_due)
        except Exception:
            logger.exception("SFTP drop: could not start the runs due")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def serve(
    *, host: str, port: int, started: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Serve the drop on host:port until ``stop`` is set (forever without one)."""
    stop = stop or asyncio.Event()
    server = await asyncssh.create_server(
        DropSSHServer,
        host,
        port,
        server_host_keys=[host_key(Path(settings.SFTP_HOST_KEY_FILE))],
        sftp_factory=DropSFTPServer,
        allow_scp=False,
        # SFTP only: no shell, no commands, no forwarding.
        process_factory=None,
        session_factory=None,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_pty=False,
    )
    watcher = asyncio.create_task(_watch_quiet(stop))
    if started is not None:
        started.set()
    try:
        await stop.wait()
    finally:
        watcher.cancel()
        server.close()
        await server.wait_closed()


def serve_in_thread(*, host: str, port: int) -> tuple[threading.Thread, Callable[[], None]]:
    """Serve the drop from a thread of its own (``make run``, tests); (thread, stop). Raises
    OSError when the port cannot be bound."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            ready = asyncio.Event()
            task = asyncio.create_task(serve(host=host, port=port, started=ready, stop=stop))
            done, _ = await asyncio.wait(
                [task, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            if task in done and task.exception() is not None:
                failed.append(task.exception())
            started.set()
            await task

        with contextlib.suppress(Exception):
            loop.run_until_complete(main())

    thread = threading.Thread(target=run, name="sftp-drop", daemon=True)
    thread.start()
    started.wait(30)
    if failed:
        raise OSError(str(failed[0]))
    return thread, lambda: loop.call_soon_threadsafe(stop.set)
