"""``python manage.py certification_report``: Clever's certification answers as Markdown."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from golive.report import report_facts, report_markdown


class Command(BaseCommand):
    help = "Print Clever's certification questions answered from this deployment (Markdown)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(report_markdown(report_facts()), ending="")
