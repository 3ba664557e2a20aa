"""Security headers on real responses, with production settings (issue 13, item 14)."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from config import csp
from tests.factories import CleverUserFactory, DistrictFactory, UserFactory
from tests.foundation.test_settings import GOOD, _start

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
YEAR = 365 * 24 * 3600


@pytest.fixture
def production(settings):
    """What DEBUG=0 sets (test_production_defaults checks the real defaults in a fresh process)."""
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = YEAR
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.CONTENT_SECURITY_POLICY = csp.policy(exclude_url_prefixes=[])
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = None
    return settings


def test_production_defaults():
    show = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_PROXY_SSL_HEADER, bool(s.CONTENT_SECURITY_POLICY), "
        "s.CONTENT_SECURITY_POLICY_REPORT_ONLY)"
    )
    result = _start(GOOD, then=show)
    assert result.returncode == 0, result.stderr
    expected = f"{YEAR} False True ('HTTP_X_FORWARDED_PROTO', 'https') True None"
    assert result.stdout.strip() == expected
    preload = _start(
        {**GOOD, "SECURE_HSTS_PRELOAD": "1"}, then=show.replace("PRELOAD", "INCLUDE_SUBDOMAINS")
    )
    assert preload.stdout.split()[1] == "True"  # preload needs includeSubDomains


class _Inline(HTMLParser):
    """Every inline script and style of a page, with its nonce; and style/on* attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[str, str | None, str]] = []  # (tag, nonce, content)
        self.attributes: list[str] = []
        self.stylesheets: list[str] = []
        self._open: tuple[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.attributes.append(f"<{tag} {name}=...>")
        if tag == "link" and names.get("rel") == "stylesheet":
            self.stylesheets.append(names.get("href") or "")
        if tag in ("script", "style") and not names.get("src"):
            self._open, self._text = (tag, names.get("nonce")), []

    def handle_data(self, data):
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._open and tag == self._open[0]:
            self.blocks.append((tag, self._open[1], "".join(self._text)))
            self._open = None


def _assert_page_passes_its_policy(response) -> None:
    header = response["Content-Security-Policy"]
    directives = dict(
        [*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip()
    )
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    page = _Inline()
    page.feed(response.content.decode())
    assert page.attributes == [], page.attributes
    for href in page.stylesheets:
        assert href.startswith("/") and not href.startswith("//"), href
    for tag, nonce, content in page.blocks:
        allowed = directives[f"{tag}-src"].split()
        digest = base64.b64encode(hashlib.sha256(content.encode()).digest()).decode()
        assert f"'nonce-{nonce}'" in allowed or f"'sha256-{digest}'" in allowed, (tag, content)


def _secure_get(client, path: str):
    return client.get(path, secure=True)


def test_anonymous_pages_pass_the_policy_and_stay_cacheable(client, production):
    for path in ["/", "/sso/clever/callback/?code=x&state=y", "/admin/login/"]:
        response = _secure_get(client, path)
        assert response.status_code in (200, 400), path
        _assert_page_passes_its_policy(response)
    landing = _secure_get(client, "/")
    assert "no-store" not in landing.get("Cache-Control", "")
    assert landing["Strict-Transport-Security"] == f"max-age={YEAR}"


def test_logged_in_pages_pass_the_policy_and_are_never_stored(client, production):
    district = DistrictFactory()
    teacher = CleverUserFactory(role="teacher", district=district)
    client.force_login(teacher)
    home = _secure_get(client, "/")
    assert home.status_code == 200
    _assert_page_passes_its_policy(home)
    assert "no-store" in home["Cache-Control"] and "private" in home["Cache-Control"]

    ops = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(ops)
    for path in [
        "/admin/",
        "/admin/rostering/district/",
        f"/admin/rostering/district/{district.pk}/change/",
        f"/admin/rostering/district/{district.pk}/matching/",
        "/golive/",
        "/golive/districts/",
        "/golive/report/",
    ]:
        response = _secure_get(client, path)
        assert response.status_code == 200, path
        _assert_page_passes_its_policy(response)
        assert "no-store" in response["Cache-Control"], path


def test_the_500_page_passes_the_policy(client, production):
    # Rendered without a request (no nonce): it may have no inline style or script at all, or
    # only <style> blocks the policy allows by hash.
    page = (ROOT / "templates/500.html").read_text()
    assert "<script" not in page and " style=" not in page
    policy = _secure_get(client, "/")["Content-Security-Policy"]
    for block in re.findall(r"<style>(.*?)</style>", page, re.S):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert '<link rel="stylesheet" href="/static/app.css">' in page


def test_plain_http_is_redirected_to_https_unless_the_proxy_says_https(client, production):
    redirect = client.get("/golive/?x=1")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://testserver/golive/?x=1"
    proxied = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == f"max-age={YEAR}"
    # The load balancer's health probe speaks plain http.
    assert client.get("/healthz").status_code in (200, 503)


def test_hsts_preload_is_a_setting(client, production):
    production.SECURE_HSTS_PRELOAD = production.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = _secure_get(client, "/")
    assert response["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains; preload"


def test_development_reports_the_same_policy_without_enforcing_it(client):
    response = client.get("/")
    assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in response["Content-Security-Policy-Report-Only"]
