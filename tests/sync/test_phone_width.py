"""Every ops page is usable at phone width (390 px: no horizontal scroll of the page itself; a
wide table scrolls inside its own box), and shows dates in the one format."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from accounts.models import User
from rostering.models import District, SyncRun
from tests.browser import chromium, needs_chromium
from tests.sync.conftest import CERT, sync
from tests.sync.test_ops_browser import _ops_page
from tests.sync.test_ops_browser import browser_env as browser_env  # the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


def _pages(district: District) -> list[str]:
    run = SyncRun.objects.filter(district=district).first()
    student = User.objects.filter(district=district, clever_roles__role="student").first()
    pages = ["/admin/", "/golive/", "/golive/districts/", "/golive/report/"]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    pages += [
        reverse("admin:rostering_district_change", args=[district.pk]),
        reverse("admin:rostering_district_matching", args=[district.pk]),
        reverse("admin:rostering_syncrun_change", args=[run.pk]),
        reverse("admin:accounts_user_change", args=[student.pk]),
        f"/golive/users/{student.pk}/login/",
    ]
    return pages


def test_every_ops_page_fits_a_phone_and_dates_look_alike(
    live_server, connected, browser_env, sync_store
):
    if sync_store == "orm" and connection.vendor == "postgresql":
        pytest.skip("pages, not stores: once is enough")
    district = connected[CERT]
    sync(district)
    with chromium() as browser:
        page = _ops_page(browser, live_server, width=390)
        page.wait_for_url(f"{live_server.url}/admin/")
        too_wide = {}
        for path in _pages(district):
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide[path] = width
            text = page.inner_text("body")
            assert not re.search(
                r"\b[ap]\.m\.|\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\. \d", text
            ), path
        assert too_wide == {}
