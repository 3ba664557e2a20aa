"""python manage.py csv_sync KEY [--dry-run] [--zip FILE]: process a CSV district's files now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rostering import csvfiles, selectors, services
from rostering.management.commands.clever_sync import format_counts
from rostering.models import CsvDistrict, SyncRun


class Command(BaseCommand):
    help = (
        "Process a CSV district's files now: the drop's current files, a fetch from its SFTP "
        "server, or --zip FILE. Prints progress, per-file counts and row errors; exits 1 when "
        "the run fails or needs review."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", metavar="KEY")
        parser.add_argument(
            "--dry-run", action="store_true", help="compute the plan, write nothing"
        )
        parser.add_argument("--zip", metavar="FILE", help="a zip of the district's CSV files")

    def handle(self, *args: Any, **options: Any) -> None:
        csv = CsvDistrict.objects.select_related("district").filter(key=options["key"]).first()
        if csv is None:
            raise CommandError(f"No CSV district with KEY {options['key']}.")
        district = csv.district
        files = None
        if options["zip"]:
            try:
                with open(options["zip"], "rb") as upload:
                    files = csvfiles.csv_zip_receive(district=district, upload=upload)
            except OSError as exc:
                raise CommandError(f"Cannot read {options['zip']}: {exc.strerror}") from None
            except csvfiles.CsvFilesError as exc:
                raise CommandError(str(exc)) from None
        run = services.district_sync(
            district=district,
            dry_run=options["dry_run"],
            csv_files=files,
            progress=lambda message: self.stdout.write(f"  {message}"),
        )
        self.stdout.write(f"Run #{run.pk}: {run.get_status_display()}")
        for line in selectors.csv_run_report(run):
            self.stdout.write(line)
        if run.counts:
            for line in format_counts(run):
                self.stdout.write(line)
        if run.error:
            self.stdout.write(run.error)
        for reason in run.plan.get("reasons", []):
            self.stdout.write(f"  held: {reason}")
        if run.status in (
            SyncRun.Status.FAILED,
            SyncRun.Status.NEEDS_REVIEW,
            SyncRun.Status.SKIPPED,
        ):
            raise SystemExit(1)
