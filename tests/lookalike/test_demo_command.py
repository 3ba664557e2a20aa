"""``manage.py demo`` serves the product and the look-alike, then stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_command_serves_home_portal_and_the_data_api(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    for name in (
        "CLEVER_CLIENT_ID",
        "CLEVER_CLIENT_SECRET",
        "CLEVER_REDIRECT_URI",
        "CLEVER_REDIRECT_URIS",
        "CLEVER_OAUTH_BASE_URL",
        "CLEVER_API_BASE_URL",
    ):
        env.pop(name, None)
    out = (tmp_path / "out.txt").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                home = requests.get(base + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, (tmp_path / "out.txt").read_text()
                assert time.monotonic() < deadline, "demo did not start within 60 s"
                time.sleep(0.3)
        assert home.status_code == 200
        portal = requests.get(base + "/clever/portal", timeout=5)
        assert portal.status_code == 200 and "Certification ISD" in portal.text
        # The product's default dev credentials and redirect URI are registered.
        tokens = requests.get(
            base + "/clever/oauth/tokens", auth=("demo-client-id", "demo-client-secret"), timeout=5
        )
        assert tokens.status_code == 200 and len(tokens.json()["data"]) == 2
        token = tokens.json()["data"][0]["access_token"]
        users = requests.get(
            base + "/clever/v3.0/users", timeout=5, headers={"Authorization": f"Bearer {token}"}
        )
        assert users.status_code == 200 and users.json()["data"]
        output = (tmp_path / "out.txt").read_text()
        assert f"{base}/clever/portal" in output and f"{base}/admin/" in output
        assert "Admin login:        ops / " in output
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        out.close()
    assert "Stopped." in (tmp_path / "out.txt").read_text()
