"""The product under a real gunicorn with config/gunicorn.py: redacted logs, start-up refusal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.foundation.test_settings import GOOD

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer {url}")


@pytest.fixture
def served(tmp_path, django_db_setup, django_db_blocker):
    """gunicorn with the project's config and an access log file, on the test database (migrated,
    unlike DATABASE_URL's own); yields (base URL, log path)."""
    port = _free_port()
    access_log = tmp_path / "access.log"
    error_log = tmp_path / "error.log"
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    proc = subprocess.Popen(
        [
            GUNICORN,
            "-c",
            "config/gunicorn.py",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--access-logfile",
            str(access_log),
            "--error-logfile",
            str(error_log),
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", proc)
        yield base, access_log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _access_lines(path: Path, needle: str, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in path.read_text().splitlines() if needle in line]
        if lines:
            return lines
        time.sleep(0.1)
    pytest.fail(f"no access log line with {needle!r}: {path.read_text()!r}")


@pytest.mark.django_db
@pytest.mark.postgres  # gunicorn, another process, must share the (migrated) test database
def test_access_log_lines_carry_no_code_or_state(served):
    base, access_log = served
    code, state = "c0de-SECRET-4f2a", "st4te-SECRET-91bd"
    referer = f"{base}/sso/clever/callback/?code=ref-{code}&state=ref-{state}"
    requests.get(
        f"{base}/sso/clever/callback/?code={code}&state={state}",
        headers={"Referer": referer},
        allow_redirects=False,
        timeout=10,
    )
    (line,) = _access_lines(access_log, "/sso/clever/callback/")
    assert "SECRET" not in line
    # gunicorn's default format: "%(r)s" is the request line, "%(f)s" the referer.
    assert '"GET /sso/clever/callback/?code=[redacted]&state=[redacted] HTTP/1.1"' in line
    assert f'"{base}/sso/clever/callback/?code=[redacted]&state=[redacted]"' in line
    assert '" 400 ' in line  # the rest of the line is intact: status, size, user agent


def test_gunicorn_refuses_weak_production_settings_before_any_worker():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVER_", "SECRET_KEY"))}
    env.update({"DEBUG": "0", "SECRET_KEY": "x", "DJANGO_SETTINGS_MODULE": "config.settings"})
    result = subprocess.run(
        [
            GUNICORN,
            "-c",
            "config/gunicorn.py",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{_free_port()}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SECRET_KEY is 1 characters long" in result.stderr
    assert "CLEVER_CLIENT_ID is not set" in result.stderr
    assert "Booting worker" not in result.stderr
    assert "Traceback" not in result.stderr


def test_production_mode_serves_the_security_headers(tmp_path):
    # The real production defaults (DEBUG off, no overrides) in the real server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVER_", "SECRET_KEY"))}
    env.update({**GOOD, "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"})
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            GUNICORN,
            "-c",
            "config/gunicorn.py",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", proc)
        plain = requests.get(f"{base}/golive/?x=1", allow_redirects=False, timeout=10)
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://127.0.0.1:{port}/golive/?x=1"
        # Behind the TLS-terminating proxy.
        page = requests.get(f"{base}/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert "Content-Security-Policy-Report-Only" not in page.headers
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        # The load balancer's probe speaks plain http and is not redirected.
        assert requests.get(f"{base}/healthz", timeout=10).status_code in (200, 503)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
