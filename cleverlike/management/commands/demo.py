"""``manage.py demo``: the product and its Clever look-alike with the demo districts, one port.

What ``make run`` starts. Steps: migrate, point the product's Clever settings at the look-alike
(``CLEVER_OAUTH_BASE_URL`` / ``CLEVER_API_BASE_URL`` = ``http://HOST:PORT/clever``; set here, not
in the Makefile, so ``--port`` keeps them right), load the demo districts, create an ops
superuser when there is none, serve, connect and sync the demo districts (in the background),
print where to click, and block until Ctrl-C.
"""

from __future__ import annotations

import secrets
import signal
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cleverlike.server import start_server
from cleverlike.world import world
from rostering import csvservices, sftpdrop

DEFAULT_DEV_REDIRECT_URI = "http://127.0.0.1:8000/sso/clever/callback/"


def connect_and_sync_demo_districts() -> threading.Thread:
    """Once the server answers: refresh connections from the look-alike's token list, then sync
    every connected district (``clever_sync`` prints the counts). In the background, so the demo
    answers at once; a failure is shown, not fatal to the demo."""

    def run() -> None:
        try:
            call_command("clever_sync")
        except CommandError as exc:
            print(f"Sync of the demo districts did not complete: {exc}")

    thread = threading.Thread(target=run, name="demo-sync", daemon=True)
    thread.start()
    return thread


def point_product_at_lookalike(host: str, port: int) -> str:
    """Set the product's Clever settings to the look-alike on host:port; return its base URL."""
    base_url = f"http://{host}:{port}/clever"
    settings.CLEVER_OAUTH_BASE_URL = base_url
    settings.CLEVER_API_BASE_URL = base_url
    if settings.CLEVER_REDIRECT_URI == DEFAULT_DEV_REDIRECT_URI and port != 8000:
        moved = f"http://{host}:{port}/sso/clever/callback/"
        settings.CLEVER_REDIRECT_URI = moved
        settings.CLEVER_REDIRECT_URIS = [
            moved if uri == DEFAULT_DEV_REDIRECT_URI else uri
            for uri in settings.CLEVER_REDIRECT_URIS
        ]
    return base_url


def ensure_ops_superuser() -> tuple[str, str] | None:
    """Create an ops superuser when none exists; return (username, password) when created."""
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username="ops", email="ops@example.org", password=password)
    return "ops", password


class Command(BaseCommand):
    """Serve product and look-alike together until Ctrl-C (what ``make run`` starts)."""

    help = "Serve the product and the Clever look-alike with the demo districts (development)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--port and --host."""
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (8000)")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument(
            "--sftp-port", type=int, default=2222, help="the CSV SFTP drop's port (2222)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Migrate, load, serve, connect and sync the demo districts, say where to click, block."""
        if not settings.DEBUG:
            raise CommandError("demo is for development only: run it with DEBUG=1")
        if not settings.CLEVER_LOOKALIKE_ENABLED:
            raise CommandError("demo needs the Clever look-alike: set CLEVER_LOOKALIKE_ENABLED=1")
        host, port = options["host"], options["port"]
        call_command("migrate", interactive=False, verbosity=0)
        base_url = point_product_at_lookalike(host, port)
        world.reset()
        created = ensure_ops_superuser()
        try:
            httpd, thread = start_server(host, port)
        except OSError as exc:
            raise CommandError(
                f"cannot serve on {host}:{port} ({exc.strerror}): stop what uses it or pass --port"
            ) from exc
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            connect_and_sync_demo_districts()
            self._print_where_to_click(host, port, base_url, created)
            sftp = self._start_sftp_drop(host, options["sftp_port"])
            self.stdout.write("\n".join(sftp) + "\n")
            self.stdout.flush()
            while thread.is_alive() and not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            httpd.shutdown()
            httpd.server_close()
            self.stdout.write("Stopped.")

    def _start_sftp_drop(self, host: str, port: int) -> list[str]:
        """The CSV SFTP drop beside the product, and a demo CSV district to push to; what to
        print (its password only when it was created now)."""
        try:
            sftpdrop.serve_in_thread(host=host, port=port)
        except OSError as exc:
            return [f"  SFTP drop:          not started on port {port} ({exc}); pass --sftp-port"]
        added = csvservices.csv_district_add(key="demo-csv", name="Demo CSV District")
        login = (
            f"password {added.password} (shown once)"
            if added.password
            else "password printed on its first run; a new one: .venv/bin/python manage.py "
            "csv_district_add demo-csv --new-password"
        )
        return [
            f"  SFTP drop (CSV):    sftp -P {port} demo-csv@{host}   ({login})",
            "                      put schools.csv students.csv teachers.csv sections.csv "
            "enrollments.csv [staff.csv];",
            f"                      processed {settings.CSV_QUIET_SECONDS}s after the last upload, "
            "or now: .venv/bin/python manage.py csv_sync demo-csv",
        ]

    def _print_where_to_click(
        self, host: str, port: int, base_url: str, created: tuple[str, str] | None
    ) -> None:
        root = f"http://{host}:{port}"
        districts = ", ".join(
            f"{d.name} ({len(d.order['users'])} users)" for d in world.districts.values()
        )
        lines = [
            "",
            f"Serving the product and its Clever look-alike at {root}",
            f"  Product home:       {root}/",
            f"  Clever Portal:      {base_url}/portal   (pick a district, a user, then the app)",
            f"  Admin:              {root}/admin/",
            f"  Look-alike:         {base_url}/   (CLEVER_OAUTH_BASE_URL = CLEVER_API_BASE_URL)",
            f"  Demo districts:     {districts}",
        ]
        if created:
            lines.append(f"  Admin login:        {created[0]} / {created[1]}   (created just now)")
        else:
            lines.append(
                "  Admin login:        ops (password printed on the first run; "
                "reset it with: .venv/bin/python manage.py changepassword ops)"
            )
        lines += ["Press Ctrl-C to stop.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
