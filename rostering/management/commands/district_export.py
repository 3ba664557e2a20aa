"""python manage.py district_export CLEVER_ID|KEY: what we hold for a district, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rostering import selectors


class Command(BaseCommand):
    help = (
        'Print what we hold for a district as JSON: {"district", "schools", "terms", "courses", '
        '"sections", "users"}, every record with "id" (its Clever ID) and "archived"; a CSV '
        "district (by its KEY) adds each record's sis_id, the file's own id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("clever_id", metavar="CLEVER_ID|KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        district = selectors.district_by_reference(options["clever_id"])
        if district is None:
            raise CommandError(f"No district with Clever ID or CSV KEY {options['clever_id']}.")
        # Written record by record so a large district never sits in memory as one document.
        out = self.stdout
        head = json.dumps(selectors.district_export_record(district))
        out.write('{"district": ' + head, ending="")
        for name, records in selectors.district_export_sections(district):
            out.write(f', "{name}": [', ending="")
            for i, record in enumerate(records):
                out.write(("" if i == 0 else ", ") + json.dumps(record), ending="")
            out.write("]", ending="")
        out.write("}")
