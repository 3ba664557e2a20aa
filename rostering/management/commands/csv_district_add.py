"""python manage.py csv_district_add KEY --name NAME [--fetch sftp://...] [--authorized-key F]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rostering import csvservices


def _read(path: str | None, what: str) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} file {path}: {exc.strerror}") from None


class Command(BaseCommand):
    help = (
        "Create or update a CSV district identified by KEY. For our SFTP drop, prints its SFTP "
        "username and, when one is generated, its password (shown once, stored only as a hash). "
        "With --fetch, files are instead read from the district's SFTP server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", metavar="KEY")
        parser.add_argument("--name", default="", help="the district's name (required when new)")
        parser.add_argument(
            "--fetch", metavar="sftp://USER@HOST[:PORT]/PATH", help="read files from this server"
        )
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--password-file", metavar="F", help="the fetch server's password")
        secret.add_argument("--key-file", metavar="F", help="a private key for the fetch server")
        parser.add_argument(
            "--authorized-key", metavar="FILE", help="an OpenSSH public key allowed on our drop"
        )
        parser.add_argument(
            "--new-password", action="store_true", help="generate a new drop password"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fetch = None
        if options["fetch"]:
            try:
                fetch = csvservices.fetch_target_parse(options["fetch"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        try:
            added = csvservices.csv_district_add(
                key=options["key"],
                name=options["name"],
                fetch=fetch,
                fetch_password=_read(options["password_file"], "password"),
                fetch_private_key=_read(options["key_file"], "key"),
                authorized_key=_read(options["authorized_key"], "authorized key"),
                new_password=options["new_password"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        csv = added.csv
        verb = "Created" if added.created else "Updated"
        self.stdout.write(f"{verb} CSV district {csv.key} ({csv.district.name}).")
        if csv.fetches:
            self.stdout.write(
                f"Files are fetched from sftp://{csv.fetch_username}@{csv.fetch_host}:"
                f"{csv.fetch_port}/{csv.fetch_folder}; check with: "
                f"python manage.py csv_test_connection {csv.key}"
            )
            return
        host, port = settings.SFTP_PUBLIC_HOST, settings.SFTP_PUBLIC_PORT
        self.stdout.write(f"SFTP drop: sftp -P {port} {csv.key}@{host}")
        self.stdout.write(f"  username: {csv.key}")
        if added.password:
            self.stdout.write(f"  password: {added.password}")
            self.stdout.write("  (shown once: it is stored only as a hash)")
        if csv.authorized_keys:
            self.stdout.write("  authorized key: set")
