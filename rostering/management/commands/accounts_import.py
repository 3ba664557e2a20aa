"""python manage.py accounts_import FILE.csv [--district CLEVER_ID]: load accounts made before
Clever, so the sync and logins can match Clever users to them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import IMPORT_COLUMNS, accounts_import
from rostering.models import District


class Command(BaseCommand):
    help = (
        f"Create or update accounts made in our app before Clever (idempotent by username) from a "
        f"CSV file with a header among {','.join(IMPORT_COLUMNS)}. Every line is checked first; "
        "with any error nothing is written and the command exits 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument(
            "--district", metavar="CLEVER_ID", help="the district these accounts belong to"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        district = None
        if options["district"]:
            district = District.objects.filter(clever_id=options["district"]).first()
            if district is None:
                raise CommandError(f"No district with Clever ID {options['district']}.")
        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as f:
                result = accounts_import(lines=f, district_id=district.pk if district else None)
        except OSError as exc:
            raise CommandError(f"{options['file']}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{options['file']}: not UTF-8 ({exc.reason})") from None
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"{options['file']}: {error}")
            n = len(result.errors)
            raise CommandError(f"{n} error{'s' * (n != 1)}; nothing was imported.")
        self.stdout.write(
            f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
        )
