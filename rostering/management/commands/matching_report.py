"""python manage.py matching_report [--district CLEVER_ID]: which accounts made in our app are
linked to Clever users, which are not, and why."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import unassigned_local_accounts
from rostering.matching import MatchingReport, matching_report
from rostering.models import District


class Command(BaseCommand):
    help = (
        "Print the account matching report: linked (and by which rule), accounts left "
        "unmatched, Clever users with several candidates, email matches refused for an "
        "unverified domain, and matches to link by hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", metavar="CLEVER_ID")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["district"]:
            districts = list(District.objects.filter(clever_id=options["district"]))
            if not districts:
                raise CommandError(f"No district with Clever ID {options['district']}.")
        else:
            districts = list(District.objects.exclude(clever_id=None).order_by("name"))
        for district in districts:
            self._print(matching_report(district=district))
        if not options["district"]:
            pool = unassigned_local_accounts()
            self.stdout.write(
                f"\nAccounts in no district, matched against every district: {len(pool)}"
            )
            for user in pool:
                self.stdout.write(f"  {user.username} ({user.display_name or '-'})")

    def _print(self, report: MatchingReport) -> None:
        w = self.stdout.write
        d = report.district
        w(f"\n{d.name} ({d.clever_id})")
        w(f"  rules, in order: {', '.join(report.rules) or 'none'}")
        w(f"  linked: {len(report.linked)}")
        for entry in report.linked:
            when = entry.link.created_at.date().isoformat() if entry.link else "-"
            w(f"    {entry.user.username} -> {entry.user.clever_id} by {entry.rule} ({when})")
        sections = (
            ("several candidates or claimed twice", report.several),
            ("email match refused, domain not verified", report.refused_email),
            ("to link by hand (their Clever account came first)", report.ready),
        )
        for title, entries in sections:
            w(f"  {title}: {len(entries)}")
            for entry in entries:
                w(f"    {entry.clever_user.clever_id}: {entry.message}")
        w(f"  left unmatched: {len(report.unmatched)}")
        for user in report.unmatched:
            w(f"    {user.username} ({user.display_name or '-'})")
        w(f"  unlinked by hand: {len(report.unlinked_by_hand)}")
        for link in report.unlinked_by_hand:
            w(f"    {link.user.username} from {link.clever_id}: {link.reason}")
