"""CSV roster files as received, kept through Django's storage API (the ``csv_files`` storage).

Whichever way a file arrives (our SFTP drop, a fetch from the district's server, a zip in the
admin) it is stored once here with its time, size and SHA-256 as a ``CsvFile``; runs read only
from here, so the SFTP service, the web and the workers need not share a disk, and ops can
download exactly what a run read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.models import Max
from django.utils import timezone

from rostering.csvformat import OPTIONAL_FILES, REQUIRED_FILES
from rostering.models import CsvFile, District

EXPECTED_FILES = (*REQUIRED_FILES, *OPTIONAL_FILES)
# A zip may not unpack to more than this (a zip bomb would otherwise fill the disk).
ZIP_MAX_BYTES = 4 * 1024**3
_CHUNK = 1 << 20


class CsvFilesError(ValueError):
    """Files that cannot be taken (e.g. a zip with none of the expected files); says why."""


def csv_storage() -> Storage:
    """The storage every roster file is kept in."""
    return storages["csv_files"]


def csv_file_receive(
    *,
    district: District,
    name: str,
    stream: IO[bytes],
    via: str,
    modified_at: dt.datetime | None = None,
) -> CsvFile:
    """Store one received file (streamed, hashed) and record it as a CsvFile."""
    if name not in EXPECTED_FILES:
        raise CsvFilesError(f"{name} is not a roster file (expected {', '.join(EXPECTED_FILES)})")
    digest = hashlib.sha256()
    size = 0
    now = timezone.now()
    with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK) as spool:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
        spool.seek(0)
        target = f"csv/{district.pk}/{now:%Y%m%dT%H%M%S.%f}-{via}/{name}"
        stored = csv_storage().save(target, File(spool, name=name))
    return CsvFile.objects.create(
        district=district,
        name=name,
        size=size,
        sha256=digest.hexdigest(),
        received_at=now,
        modified_at=modified_at,
        via=via,
        storage_name=stored,
    )


def csv_file_open(file: CsvFile) -> IO[bytes]:
    """The stored bytes of ``file``, for reading."""
    return csv_storage().open(file.storage_name, "rb")


def csv_zip_receive(*, district: District, upload: IO[bytes]) -> list[CsvFile]:
    """Store the roster files of a zip (at its top level or in one folder); refuse others."""
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile as exc:
        raise CsvFilesError(f"The upload is not a zip file ({exc}).") from None
    with archive:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = PurePosixPath(info.filename).name
            if name in EXPECTED_FILES:
                if name in members:
                    raise CsvFilesError(f"The zip holds {name} twice ({info.filename}).")
                members[name] = info
        if not members:
            raise CsvFilesError(
                f"The zip holds none of the roster files ({', '.join(EXPECTED_FILES)})."
            )
        if sum(i.file_size for i in members.values()) > ZIP_MAX_BYTES:
            raise CsvFilesError("The zip unpacks to more than 4 GB; upload the files by SFTP.")
        received = []
        for name in EXPECTED_FILES:
            info = members.get(name)
            if info is None:
                continue
            modified = dt.datetime(*info.date_time, tzinfo=dt.UTC)
            with archive.open(info) as stream:
                received.append(
                    csv_file_receive(
                        district=district,
                        name=name,
                        stream=stream,
                        via=CsvFile.Via.ZIP,
                        modified_at=modified,
                    )
                )
    return received


def csv_files_latest(*, district: District, via: Iterable[str] | None = None) -> list[CsvFile]:
    """The newest received file of each name (optionally only those that came ``via``)."""
    qs = CsvFile.objects.filter(district=district)
    if via is not None:
        qs = qs.filter(via__in=list(via))
    newest = qs.values("name").annotate(at=Max("received_at"))
    picked = []
    for entry in newest:
        file = qs.filter(name=entry["name"], received_at=entry["at"]).order_by("-pk").first()
        if file is not None:
            picked.append(file)
    return sorted(picked, key=lambda f: EXPECTED_FILES.index(f.name))
