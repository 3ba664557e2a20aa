"""python manage.py sftp_serve [--host H] [--port P]: our SFTP drop for CSV districts."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from rostering import sftpdrop


class Command(BaseCommand):
    help = (
        "Serve the SFTP drop: each CSV district logs in as its KEY (password or authorized key), "
        "chrooted to its own folder; uploads are kept through Django's storage and processed "
        "CSV_QUIET_SECONDS after the last upload activity. Runs until interrupted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=2222)

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        self.stdout.write(
            f"SFTP drop on {host}:{port} (host key {settings.SFTP_HOST_KEY_FILE}); files are "
            f"processed {settings.CSV_QUIET_SECONDS}s after the last upload. Connect with: "
            f"sftp -P {port} KEY@{host}"
        )
        try:
            asyncio.run(sftpdrop.serve(host=host, port=port))
        except KeyboardInterrupt:
            self.stdout.write("SFTP drop stopped.")
