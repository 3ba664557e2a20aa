"""The pages around the product: logged out, 403, 404 and 500 styled, the favicon, the admin
login naming a non-staff person by name, the checklist's steps before the first check."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import CleverUserFactory

pytestmark = pytest.mark.django_db


def test_logging_out_says_so_and_reminds_about_clever(client):
    client.force_login(CleverUserFactory(first_name="Lisa", last_name="Simpson"))
    response = client.post("/logout/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("home:logged_out")
    assert "You are logged out" in html and "log out of Clever too" in html


@override_settings(DEBUG=False)
def test_404_and_403_pages_are_the_products(client):
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and b"We can't find that page" in missing.content
    client.force_login(CleverUserFactory(first_name="Lisa", last_name="Simpson"))
    forbidden = client.get("/golive/")
    html = forbidden.content.decode()
    assert forbidden.status_code == 403 and "You can't open this page" in html
    assert "Go-live pages are for staff only." in html and "Lisa Simpson" in html


def test_a_teacher_at_the_admin_is_named_not_their_clever_id(client):
    teacher = CleverUserFactory(first_name="Edna", last_name="Krabappel")
    client.force_login(teacher)
    html = client.get("/admin/login/?next=/admin/").content.decode()
    assert "You are logged in as Edna Krabappel" in html
    assert teacher.username not in html


def test_the_500_page_needs_no_context_and_uses_the_stylesheet():
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html and "/static/app.css" in html
    assert "<style" not in html


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")


def test_the_checklist_lists_its_steps_before_the_first_check(admin_client):
    html = admin_client.get(reverse("golive:checklist")).content.decode()
    assert "Not checked yet" in html
    for key in ("credentials", "redirect_uris", "user_types", "test_logins", "test_sync"):
        assert f'data-testid="step-{key}"' in html
