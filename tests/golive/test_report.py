"""The certification report answers every question, from the settings in force."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _report() -> str:
    out = StringIO()
    call_command("certification_report", stdout=out)
    return out.getvalue()


def _answer(markdown: str, question_start: str) -> str:
    """The answer paragraph under the question that starts with ``question_start``."""
    match = re.search(r"\*\*" + re.escape(question_start) + r"[^*]*\*\*\n\n(.+)", markdown)
    assert match, f"no question starting {question_start!r}"
    return match.group(1)


QUESTIONS = [
    "Which version of Clever's API",
    "Which field does your application use as the key identifier",
    "What's the top-level or central record",
    "What are the steps that need to be taken for a district",
    "Does your application use district-app tokens",
    "Does your application need to run a sync to initialize data",
    "How does your application handle missing fields",
    "Does your application update data upon login or with a daily batched sync",
    "Which Clever user types will have accounts",
    "Do you support a user type that has more access than teachers",
    "How will you match Clever districts",
    "How will you match Clever schools",
    "Does your application match user records",
    "Does your application sync student-teacher associations",
    "How often is a new sync triggered",
    "Do you update data on user login, using full data syncs, or using events",
    "Can a teacher or admin edit the permissions",
    "Can a teacher or admin create users who are not managed",
    "Can a teacher or admin create groups of students",
    "If you can do any of the above, will the changes persist",
    "What happens if a student moves between classes",
    "What happens if a student moves between schools",
    "What do you do if a record is deleted from Clever",
    "Can a record be restored after it has been deleted",
    "Does your application store progress data",
    "Is there any case where progress data would be deleted",
    "How do you handle semester or school year rollover",
    "Do you support co-teachers",
    "Can you initiate a full data (non-events) sync if needed",
    "Which records do you process events for",
    "Who kicks off the initial sync",
    "Which record types will be synced",
    "What happens when a user logs in for the first time",
    "What happens when a user logs in after their account has been provisioned",
    "If a teacher is also an administrator in Clever",
]


def test_the_command_answers_every_certification_question():
    markdown = _report()
    assert markdown.startswith("# Clever certification answers\n")
    for question in QUESTIONS:
        assert _answer(markdown, question).strip()
    assert _answer(markdown, "Which version of Clever's API").startswith("Data API v3.0 at ")
    assert "Clever ID" in _answer(markdown, "Which field does your application use")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="needs ../shared/seeds beside the repository")
def test_every_general_question_of_the_certification_page_is_in_the_report():
    source = next(SEEDS.glob("001_*.txt")).read_text()
    general = source.split("### **General questions**")[1].split("### **Provisioning")[0]
    asked = [q.strip(" •\n") for q in general.splitlines() if q.strip().startswith("•")]
    markdown = _report()
    assert len(asked) == 8
    for question in asked:
        assert f"**{question}**" in markdown


def test_supported_user_types_change_the_answers(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    before = _report()
    assert "Supported for login: teachers and students" in before
    assert _answer(before, "Do you support a user type that has more access").startswith(
        "No. Only teachers and students log in"
    )
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student", "district_admin"]
    after = _report()
    assert "Supported for login: teachers, students and district admins" in after
    assert _answer(after, "Do you support a user type that has more access").startswith(
        "Yes: district admins log in to a read-only overview of their district"
    )
    # Spelled as Clever's id_tokens spell it, the setting means the same to SSO and the report.
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "district admin", ""]
    spaced = _report()
    assert "Supported for login: teachers and district admins" in spaced
    assert _answer(spaced, "Do you support a user type that has more access").startswith(
        "Yes: district admins log in"
    )


def test_oidc_changes_the_login_answer(settings):
    settings.CLEVER_OIDC_ENABLED = False
    assert "OpenID Connect is off" in _answer(_report(), "How do users log in?")
    settings.CLEVER_OIDC_ENABLED = True
    answer = _answer(_report(), "How do users log in?")
    assert answer.startswith("Logins use OpenID Connect (CLEVER_OIDC_ENABLED)")
    assert "id_token" in answer


@pytest.mark.parametrize(
    ("cron", "words", "daily"),
    [
        ("0 3 * * *", "every day at 03:00 UTC", True),
        ("30 22 * * *", "every day at 22:30 UTC", True),
        ("15 */6 * * *", "every 6 hours at minute 15", True),
        ("0 3 * * 1", "every Monday at 03:00 UTC", False),
    ],
)
def test_the_sync_schedule_changes_the_answers(settings, cron, words, daily):
    settings.CLEVER_SYNC_CRON = cron
    markdown = _report()
    ongoing = _answer(markdown, "How often is a new sync triggered")
    assert words in ongoing and f"CLEVER_SYNC_CRON = `{cron}`" in ongoing
    assert ("less than Clever's once-a-day minimum" in ongoing) is not daily
    batched = _answer(markdown, "Does your application update data upon login or with a daily")
    assert ("NOT at least once a day" in batched) is not daily


def test_the_matching_strategy_changes_the_answer(settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "sis_id"]
    answer = _answer(_report(), "Does your application match user records")
    assert "by this rule (CLEVER_ACCOUNT_MATCHING): SIS id." in answer
    assert "email" not in answer.lower()
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    answer = _answer(_report(), "Does your application match user records")
    assert "(CLEVER_ACCOUNT_MATCHING): email address." in answer and "SIS id" not in answer
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "district_username", "sis_id"]
    answer = _answer(_report(), "Does your application match user records")
    assert "by these rules in order (CLEVER_ACCOUNT_MATCHING): district username; then SIS id." in (
        answer
    )


def test_verified_email_domains_change_the_answer(settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = []
    answer = _answer(_report(), "Does your application match user records")
    assert "by this rule (CLEVER_ACCOUNT_MATCHING): email address." in answer
    assert "so an email match never links an account; it is listed in the matching report" in (
        answer
    )
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["springfield.k12.us", "example.edu"]
    answer = _answer(_report(), "Does your application match user records")
    assert "An email match links only addresses in the verified domains " in answer
    assert "springfield.k12.us, example.edu (CLEVER_VERIFIED_EMAIL_DOMAINS)" in answer


def test_synced_roles_and_rostering_only_change_the_answers(settings):
    settings.CLEVER_SYNC_USER_ROLES = ["student", "teacher"]
    settings.CLEVER_ROSTERING_ONLY = True
    markdown = _report()
    # Rostering only: the answers never mention logins (see test_report_settings.py).
    assert _answer(markdown, "Which Clever user types will have accounts") == (
        "The sync mirrors students and teachers (CLEVER_SYNC_USER_ROLES)."
    )
    assert "How do users log in?" not in markdown


def test_the_page_shows_the_same_answers(staff_client, settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "staff"]
    page = staff_client.get(reverse("golive:report"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<dt>Which version of Clever&#x27;s API are you using?</dt>" in html
    assert "Supported for login: teachers and school staff" in html
    md = staff_client.get(reverse("golive:report_markdown"))
    assert md["Content-Type"].startswith("text/markdown")
    assert "Supported for login: teachers and school staff" in md.content.decode()
