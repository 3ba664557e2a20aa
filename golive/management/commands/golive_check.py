"""``manage.py golive_check``: evaluate and record the go-live checklist; exit 1 if not ready."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from golive import services


class Command(BaseCommand):
    help = "Evaluate the go-live checklist now, record it (as Re-check does) and print each step."

    def handle(self, *args, **options) -> None:
        run = services.checklist_run()
        for result in run.results.all():
            self.stdout.write(
                f"[{result.get_status_display().upper()}] {result.title}: {result.summary}"
            )
            if result.fix:
                self.stdout.write(f"    How to fix: {result.fix}")
        if not run.ready:
            raise CommandError(f"Not ready to go live: {len(run.failing)} step(s) fail.")
        self.stdout.write("Ready to go live.")
