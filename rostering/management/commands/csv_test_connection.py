"""python manage.py csv_test_connection KEY: log in to the district's SFTP server, check files."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rostering import sftpfetch
from rostering.models import CsvDistrict


class Command(BaseCommand):
    help = (
        "Log in to a CSV district's SFTP server and list each expected file: found or missing, "
        "its size and time, and a header check. Exits 1 when anything is missing or wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", metavar="KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        csv = CsvDistrict.objects.select_related("district").filter(key=options["key"]).first()
        if csv is None:
            raise CommandError(f"No CSV district with KEY {options['key']}.")
        if not csv.fetches:
            raise CommandError(
                f"CSV district {csv.key} uses our SFTP drop: there is no server of its own to test."
            )
        report = sftpfetch.csv_test_connection(csv=csv)
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise SystemExit(1)
