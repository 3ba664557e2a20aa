"""The look-alike served on its own (cleverlike.service_settings), as bench-login runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
print(len(settings.MIDDLEWARE))
print(client.get("/clever/.well-known/openid-configuration").status_code)
print(client.get("/clever/oauth/tokens?owner_type=district").status_code)
print(client.get("/sso/clever/login").status_code)
from cleverlike.service_wsgi import application
from cleverlike.world import world
print(len(world.districts))
from wsgiref.util import setup_testing_defaults
environ = {"PATH_INFO": "/clever/.well-known/openid-configuration", "HTTP_HOST": "testserver"}
setup_testing_defaults(environ)
statuses = []
for _ in range(2):  # the second request runs after the first one's request_finished
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
print(statuses[-1].split()[0], b"issuer" in body)
"""


def _probe(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cleverlike.service_settings",
            "DATABASE_URL": "sqlite:///:memory:",
            "ALLOWED_HOSTS": "testserver",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serves_clever_alone_without_our_middleware() -> None:
    result = _probe(DEBUG="1", CLEVER_LOOKALIKE_ENABLED="1")
    assert result.returncode == 0, result.stderr
    (middleware, discovery, tokens_without_auth, product_login, districts, served, issuer) = (
        result.stdout.split()
    )
    assert middleware == "0"
    assert discovery == "200"
    assert tokens_without_auth == "401"  # Clever's own answer, not a product page
    assert product_login == "404"  # the product is not served here
    assert int(districts) >= 2  # the WSGI entry loads the demo districts before serving
    assert (served, issuer) == ("200", "True")  # and then serves, without the database signals


def test_refuses_to_start_without_the_look_alike_enabled() -> None:
    result = _probe(DEBUG="1", CLEVER_LOOKALIKE_ENABLED="0")
    assert result.returncode != 0
    assert "CLEVER_LOOKALIKE_ENABLED=1" in result.stderr
