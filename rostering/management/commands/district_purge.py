"""python manage.py district_purge CLEVER_ID [--yes]: delete a disconnected district's data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rostering import services
from rostering.models import District


class Command(BaseCommand):
    help = (
        "Delete everything held for a disconnected district (schools, terms, courses, sections, "
        "enrolments, synced users, run history). Asks for confirmation unless --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clever_id", metavar="CLEVER_ID")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        clever_id = options["clever_id"]
        district = District.objects.filter(clever_id=clever_id).first()
        if district is None:
            raise CommandError(f"No district with Clever ID {clever_id}.")
        if district.status != District.Status.DISCONNECTED:
            raise CommandError(
                f"District {clever_id} is still connected: only disconnected districts can be "
                "purged."
            )
        if not options["yes"]:
            answer = input(
                f"Delete all data held for {district.name or clever_id} ({clever_id})? "
                "This cannot be undone. Type the Clever ID to confirm: "
            )
            if answer.strip() != clever_id:
                raise CommandError("Not confirmed; nothing was deleted.")
        deleted = services.district_purge(district=district)
        summary = ", ".join(f"{n} {name}" for name, n in deleted.items() if n)
        self.stdout.write(f"Purged district {clever_id}: {summary or 'no rows'}.")
