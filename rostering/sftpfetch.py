"""Reading a district's roster files from its own SFTP server (asyncssh): test, list, fetch.

The server's host key is trusted on first contact and kept (``CsvDistrict.fetch_host_key``); a
different key later is refused, naming both fingerprints. Passwords and private keys are read
decrypted from the district only for the connection and never logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from django.conf import settings

from rostering import csvfiles
from rostering.csvformat import OPTIONAL_FILES, REQUIRED_FILES, CsvError, CsvReader
from rostering.csvsource import HEADER_REQUIRED
from rostering.models import CsvDistrict, CsvFile

# Bytes read from each file for the header check.
HEADER_BYTES = 64 * 1024


class FetchError(Exception):
    """The server could not be reached, refused us, or its host key changed; says which."""


@dataclass
class RemoteFile:
    name: str
    size: int | None = None
    modified_at: dt.datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.size is not None


@dataclass
class ConnectionReport:
    """What "Test connection" found: each expected file and what is wrong with it."""

    ok: bool
    host: str
    files: list[RemoteFile]
    error: str = ""

    def lines(self) -> list[str]:
        if self.error:
            return [f"Could not connect to {self.host}: {self.error}"]
        out = [f"Connected to {self.host}."]
        for f in self.files:
            optional = f.name in OPTIONAL_FILES
            if not f.found:
                out.append(f"  {f.name}: missing" + (" (optional)" if optional else ""))
                continue
            when = f"{f.modified_at:%Y-%m-%d %H:%M} UTC" if f.modified_at else "time unknown"
            state = "header OK" if not f.problems else "; ".join(f.problems)
            out.append(f"  {f.name}: found, {f.size} bytes, {when}, {state}")
        out.append("Everything expected is there." if self.ok else "Something is missing or wrong.")
        return out


def _fingerprint(key: str) -> str:
    return asyncssh.import_public_key(key).get_fingerprint() if key else "(none)"


async def _connect(csv: CsvDistrict) -> tuple[asyncssh.SSHClientConnection, str]:
    options: dict[str, Any] = {
        "host": csv.fetch_host,
        "port": csv.fetch_port,
        "username": csv.fetch_username,
        # Host keys are checked below against the one trusted on first contact.
        "known_hosts": None,
        "connect_timeout": settings.CSV_FETCH_TIMEOUT,
        "agent_path": None,
    }
    if csv.fetch_private_key:
        options["client_keys"] = [asyncssh.import_private_key(csv.fetch_private_key)]
        options["password"] = csv.fetch_password or None
    else:
        options["client_keys"] = None
        options["password"] = csv.fetch_password
    try:
        conn = await asyncio.wait_for(asyncssh.connect(**options), settings.CSV_FETCH_TIMEOUT)
    except asyncssh.PermissionDenied:
        raise FetchError(f"{csv.fetch_host} refused the username or its password or key") from None
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise FetchError(
            f"{csv.fetch_host}:{csv.fetch_port}: {exc or type(exc).__name__}"
        ) from None
    key = conn.get_server_host_key()
    text = key.export_public_key().decode().strip() if key else ""
    if csv.fetch_host_key and text != csv.fetch_host_key:
        conn.close()
        raise FetchError(
            f"the host key of {csv.fetch_host} changed (was {_fingerprint(csv.fetch_host_key)}, "
            f"now {_fingerprint(text)}): refused. If the server really changed its key, save "
            "the district's SFTP settings again to trust the new one"
        )
    return conn, text


def _trust(csv: CsvDistrict, host_key: str) -> None:
    if not csv.fetch_host_key and host_key:
        csv.fetch_host_key = host_key
        CsvDistrict.objects.filter(pk=csv.pk).update(fetch_host_key=host_key)


def _when(attrs: asyncssh.SFTPAttrs) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(attrs.mtime, dt.UTC) if attrs.mtime else None


def _header_problems(name: str, head: bytes) -> list[str]:
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut by the read limit
            line = head[: exc.start].count(b"\n") + 1
            return [f"line {line} is not UTF-8"]
        text = head[: exc.start].decode("utf-8-sig")
    errors: list[CsvError] = []
    CsvReader(name, io.StringIO(text, newline=""), errors).read_header(HEADER_REQUIRED[name])
    return [e.message for e in errors]


async def _list(csv: CsvDistrict, *, headers: bool) -> tuple[list[RemoteFile], str]:
    conn, host_key = await _connect(csv)
    async with conn, conn.start_sftp_client() as sftp:
        found = []
        for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
            path = posixpath.join(csv.fetch_folder or ".", name)
            entry = RemoteFile(name)
            try:
                attrs = await sftp.stat(path)
            except asyncssh.SFTPNoSuchFile:
                found.append(entry)
                continue
            except asyncssh.SFTPError as exc:
                entry.problems.append(f"cannot be read: {exc.reason}")
                entry.size = 0
                found.append(entry)
                continue
            entry.size, entry.modified_at = attrs.size or 0, _when(attrs)
            if headers:
                async with sftp.open(path, "rb") as handle:
                    entry.problems = _header_problems(name, await handle.read(HEADER_BYTES))
            found.append(entry)
    return found, host_key


def csv_test_connection(*, csv: CsvDistrict) -> ConnectionReport:
    """Log in to the district's server and check each expected file and its header."""
    host = f"{csv.fetch_host}:{csv.fetch_port}"
    try:
        files, host_key = asyncio.run(_list(csv, headers=True))
    except FetchError as exc:
        return ConnectionReport(False, host, [], error=str(exc))
    _trust(csv, host_key)
    ok = all((f.found or f.name in OPTIONAL_FILES) and not f.problems for f in files)
    return ConnectionReport(ok, host, files)


async def _download(csv: CsvDistrict, folder: Path) -> tuple[list[RemoteFile], str]:
    conn, host_key = await _connect(csv)
    async with conn, conn.start_sftp_client() as sftp:
        got = []
        for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
            path = posixpath.join(csv.fetch_folder or ".", name)
            try:
                attrs = await sftp.stat(path)
                await sftp.get(path, str(folder / name))
            except asyncssh.SFTPNoSuchFile:
                continue
            except asyncssh.SFTPError as exc:
                raise FetchError(f"{name} cannot be read: {exc.reason}") from None
            got.append(RemoteFile(name, attrs.size, _when(attrs)))
    return got, host_key


def fetch_files(*, csv: CsvDistrict) -> list[CsvFile]:
    """Download the district's files from its server into storage (CsvFile, via "fetch")."""
    with tempfile.TemporaryDirectory(prefix="csv-fetch-") as tmp:
        folder = Path(tmp)
        try:
            got, host_key = asyncio.run(_download(csv, folder))
        except (OSError, asyncssh.Error) as exc:
            raise FetchError(str(exc)) from None
        _trust(csv, host_key)
        received = []
        for remote in got:
            with (folder / remote.name).open("rb") as stream:
                received.append(
                    csvfiles.csv_file_receive(
                        district=csv.district,
                        name=remote.name,
                        stream=stream,
                        via=CsvFile.Via.FETCH,
                        modified_at=remote.modified_at,
                    )
                )
    return received
