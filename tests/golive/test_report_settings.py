"""Every certification answer that depends on a setting changes when that setting changes."""

from __future__ import annotations

import html
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from clever import endpoints
from golive.report import ReportFacts, report_facts, schedule_parse
from rostering.selectors import mirrored_record_types

pytestmark = pytest.mark.django_db

LOGIN_WORDS = re.compile(r"\blog(?:s|ged|ging)?[ -]?in\b|\blogins?\b", re.IGNORECASE)


def _report() -> str:
    out = StringIO()
    call_command("certification_report", stdout=out)
    return out.getvalue()


def _answers(markdown: str) -> dict[str, str]:
    """Question -> answer paragraph, for every question of the Markdown report."""
    return dict(re.findall(r"^\*\*(.+?)\*\*\n\n(.+)$", markdown, re.MULTILINE))


def _answer(markdown: str, question_start: str) -> str:
    found = [a for q, a in _answers(markdown).items() if q.startswith(question_start)]
    assert len(found) == 1, f"no single question starting {question_start!r}"
    return found[0]


# --- the facts ---------------------------------------------------------------------------------


def test_the_facts_are_read_from_settings_and_code(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "District Admin", "contact", ""]
    settings.CLEVER_SYNC_USER_ROLES = ["teacher", "school_admin", "student", "teacher"]
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email", "nickname", "sis_id"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = [" @Example.EDU ", ""]
    settings.CLEVER_EVENTS_CRON = ""
    facts = report_facts()
    assert isinstance(facts, ReportFacts)
    assert facts.api_version == endpoints.API_VERSION
    assert facts.record_types == tuple(mirrored_record_types())
    # Contacts are never let in; "District Admin" is Clever's id_token spelling of district_admin.
    assert facts.login_types == ("teacher", "district_admin")
    assert facts.admin_login_types == ("district_admin",)
    assert facts.admins_as_teachers == ("staff", "school_admin")
    # The sync reads only Clever's v3 role names (there is no school_admin role record).
    assert facts.synced_roles == ("teacher", "student")
    # Matching skips names it does not know, as accounts.services does.
    assert facts.matching == ("email", "sis_id")
    assert facts.verified_email_domains == ("example.edu",)
    assert facts.events is None


@pytest.mark.parametrize(
    ("cron", "kind", "daily"),
    [
        ("0 3 * * *", "daily", True),
        ("0 3 * * 0", "weekly", False),
        ("0 3 * * 7", "weekly", False),
        ("5 * * * *", "hourly", True),
        ("0 2,14 * * *", "hours", True),
        ("15 */6 * * *", "every_hours", True),
        ("*/15 * * * *", "every_minutes", True),
        ("* * * * *", "every_minute", True),
        ("0 3 1 * *", "cron", False),
        ("often", "cron", False),
    ],
)
def test_cron_expressions_are_read_into_schedules(cron, kind, daily):
    schedule = schedule_parse(cron)
    assert (schedule.kind, schedule.daily, schedule.cron) == (kind, daily, cron)
    if kind == "weekly":
        assert schedule.weekday == "Sunday"


# --- settings change the answers ---------------------------------------------------------------


def test_events_answers_follow_the_events_cron(settings):
    settings.CLEVER_EVENTS_CRON = ""
    off = _report()
    assert "not scheduled on their own" not in off
    assert _answer(off, "Which records do you process events for").startswith(
        "None on a schedule: events are off (CLEVER_EVENTS_CRON is empty)"
    )
    assert "No events pass is scheduled (CLEVER_EVENTS_CRON is empty)." in _answer(
        off, "How often is a new sync triggered"
    )
    assert "events" not in _answer(off, "Does your application update data upon login")
    assert "events pass" not in _answer(off, "What happens if a student moves between classes")
    assert "applied only by hand" in _answer(off, "What do you do if a record is deleted")

    settings.CLEVER_EVENTS_CRON = "*/15 * * * *"
    on = _report()
    records = _answer(on, "Which records do you process events for")
    assert records.startswith("Districts (their name), schools, terms, courses, users and sections")
    assert "events pass every 15 minutes (CLEVER_EVENTS_CRON = `*/15 * * * *`)" in records
    assert "events pass every 15 minutes (CLEVER_EVENTS_CRON = `*/15 * * * *`)" in _answer(
        on, "How often is a new sync triggered"
    )
    assert "Clever's events every 15 minutes between full syncs (CLEVER_EVENTS_CRON)" in _answer(
        on, "Does your application update data upon login"
    )
    assert "Clever's events every 15 minutes between them" in _answer(
        on, "Do you update data on user login, using full data syncs, or using events"
    )
    assert "(or the next events pass, every 15 minutes)" in _answer(
        on, "What happens if a student moves between classes"
    )
    deleted = _answer(on, "What do you do if a record is deleted")
    assert "pass the same guard, counted over each events pass" in deleted
    assert "applied only by hand" not in deleted
    restore = _answer(on, "Can a record be restored")
    assert (
        "A user brought back (or added) by an event gets their roles, schools and places" in restore
    )
    assert "`/v3.0/users/{id}/sections`" in restore

    settings.CLEVER_EVENTS_CRON = "0 * * * *"
    assert "events pass every hour at minute 0" in _answer(
        _report(), "Which records do you process events for"
    )


def test_rostering_only_answers_never_mention_logins(settings):
    settings.CLEVER_ROSTERING_ONLY = False
    with_logins = _answers(_report())
    assert any(LOGIN_WORDS.search(a) for a in with_logins.values())
    assert "How do users log in?" in with_logins

    settings.CLEVER_ROSTERING_ONLY = True
    settings.CLEVER_EVENTS_CRON = "*/15 * * * *"
    settings.CLEVER_APP_ENVIRONMENT = "production"
    markdown = _report()
    answers = _answers(markdown)
    mentioning = {q: a for q, a in answers.items() if LOGIN_WORDS.search(a)}
    assert mentioning == {}
    assert "How do users log in?" not in answers
    assert "## Provisioning and updating on login" not in markdown
    assert "## Administrators" not in markdown
    # Every question outside those two sections is still answered.
    assert len(answers) == len(with_logins) - 6
    assert _answer(markdown, "Does your application match user records").startswith(
        "Yes, wherever a Clever user meets our accounts: in the sync, before it creates an "
        "account for a Clever user it has not seen. "
    )
    assert _answer(markdown, "Does your application update data upon login").startswith(
        "A batched sync and events: a full sync every day at 03:00 UTC (CLEVER_SYNC_CRON) and "
        "Clever's events every 15 minutes"
    )
    assert "4. " not in _answer(markdown, "What are the steps")


def test_oidc_changes_what_a_login_reads(settings):
    settings.CLEVER_OIDC_ENABLED = False
    off = _answer(_report(), "Which record types do you store/access?")
    assert off.startswith("At login: GET /v3.0/me and the user record it links to")
    assert "id_token" not in off
    settings.CLEVER_OIDC_ENABLED = True
    on = _answer(_report(), "Which record types do you store/access?")
    assert on.startswith("At login: the id_token Clever returns")
    assert "/v3.0/me" not in on


def test_the_production_app_gates_logins_until_launch(settings):
    settings.CLEVER_APP_ENVIRONMENT = "development"
    dev = _report()
    dev_steps = _answer(dev, "What are the steps")
    assert "logins are not held back until launch" in dev_steps
    assert "logins follow it" not in dev_steps
    # Whatever the app, the Portal follows Clever's launch date, which we read.
    assert "We set its launch date (or press Launch Now) in Clever's dashboard" in dev_steps
    assert "launched" not in _answer(dev, "What happens when a user logs in for the first time")
    assert "must be launched" not in _answer(dev, "Does your application need to run a sync")
    settings.CLEVER_APP_ENVIRONMENT = "production"
    prod = _report()
    steps = _answer(prod, "What are the steps")
    assert 'see a friendly "not launched yet" page' in steps
    assert "not held back" not in steps
    assert "and logins follow it: before it" in steps
    assert "at most once a minute, before refusing a login as not launched" in steps
    assert "Until Clever's launch date has been read for a district, the launch ops noted" in steps
    assert (
        "and launched (its launch date in Clever has passed, or they are one of its listed test "
        "users)" in _answer(prod, "What happens when a user logs in for the first time")
    )
    assert (
        "The district must be launched: its launch date in Clever (read from Clever's district "
        "record at each sync and token refresh) must have passed"
        in _answer(prod, "Does your application need to run")
    )
    assert "(CLEVER_APP_ENVIRONMENT = production)" in prod.splitlines()[2]


def test_matching_answers_follow_the_matching_settings(settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id"]
    answer = _answer(_report(), "Does your application match user records")
    assert answer.startswith("Only by Clever ID: CLEVER_ACCOUNT_MATCHING lists no other rule")
    assert "in order" not in answer and "matching report" not in answer
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "nickname", "sis_id"]
    answer = _answer(_report(), "Does your application match user records")
    assert "(CLEVER_ACCOUNT_MATCHING): SIS id." in answer
    assert "nickname" not in answer
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["@Springfield.k12.us "]
    answer = _answer(_report(), "Does your application match user records")
    assert "verified domains springfield.k12.us (CLEVER_VERIFIED_EMAIL_DOMAINS)" in answer
    # Matching runs in the sync as well as at login; conflicts are reported, never linked.
    assert answer.startswith(
        "Yes, wherever a Clever user meets our accounts: in the sync, before it creates an "
        "account for a Clever user it has not seen, and at login, when no account has the "
        "person's Clever ID yet."
    )
    assert "never a staff account" in answer
    assert "listed in the district's matching report (in the admin, and `python manage.py " in (
        answer
    )
    assert "`python manage.py accounts_import FILE.csv`" in answer


def test_supported_types_change_the_administrator_answers(settings):
    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "student"]
    markdown = _report()
    assert _answer(markdown, "What access levels of administrator").startswith(
        "None: no administrator type is in CLEVER_SUPPORTED_USER_TYPES; an administrator who "
        "also teaches is admitted as a teacher."
    )
    both = _answer(markdown, "If a teacher is also an administrator")
    assert "Merged (" in both and "Split (two Clever IDs" in both
    assert "an administrator login of theirs is admitted as a teacher" in both
    assert "the administrator record on its own is refused" in both

    settings.CLEVER_SUPPORTED_USER_TYPES = ["teacher", "school_admin", "staff"]
    markdown = _report()
    assert _answer(markdown, "What access levels of administrator").startswith(
        "One: school admins and school staff (Clever types"
    )
    more = _answer(markdown, "Do you support a user type that has more access")
    assert more.startswith("Yes: school admins and school staff log in to a read-only overview")
    assert "District admins who also teach are admitted as teachers." in more
    both = _answer(markdown, "If a teacher is also an administrator")
    assert "opens the district overview when its type is supported (school admins and school " in (
        both
    )

    # Without teachers, no administrator is let in as one.
    settings.CLEVER_SUPPORTED_USER_TYPES = ["student", "contact"]
    markdown = _report()
    assert _answer(markdown, "Do you support a user type that has more access").startswith(
        "No. Only students log in."
    )
    assert "Supported for login: students (CLEVER_SUPPORTED_USER_TYPES)" in markdown
    assert "The teacher record is refused" in _answer(markdown, "If a teacher is also an admin")
    assert "admitted as a teacher" not in _answer(markdown, "What access levels of administrator")


def test_synced_roles_change_the_answers(settings):
    settings.CLEVER_SYNC_USER_ROLES = ["student", "teacher", "contact"]
    markdown = _report()
    assert "Contacts are mirrored but never let in." in _answer(
        markdown, "Which Clever user types will have accounts"
    )
    types = _answer(markdown, "Which record types will be synced?")
    assert "their roles (students, teachers and parent and guardian contacts, as" in types
    assert "contacts with the students they are related to" in types
    settings.CLEVER_SYNC_USER_ROLES = ["student", "teacher"]
    markdown = _report()
    assert "Contacts" not in _answer(markdown, "Which Clever user types will have accounts")
    assert "related to" not in _answer(markdown, "Which record types will be synced?")


def test_the_archive_guard_thresholds_change_the_answers(settings):
    settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION = 0.25
    settings.CLEVER_SYNC_ARCHIVE_MAX_COUNT = 120
    markdown = _report()
    for question in ("What do you do if a record is deleted", "How do you handle semester"):
        assert "more than 25% or 120 records of one type" in _answer(markdown, question)
    settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT = 7
    markdown = _report()
    for question in ("What do you do if a record is deleted", "How do you handle semester"):
        assert "only above 7 records of a type" in _answer(markdown, question)


def test_the_sync_schedule_changes_every_answer_that_names_it(settings):
    settings.CLEVER_SYNC_CRON = "0 2,14 * * *"
    markdown = _report()
    words = "every day at hours 2,14 UTC, minute 0"
    for question in (
        "What are the steps",
        "Does your application update data upon login",
        "How often is a new sync triggered",
        "Can you initiate a full data",
        "Who kicks off the initial sync",
    ):
        assert words in _answer(markdown, question), question
    settings.CLEVER_SYNC_CRON = "0 3 1 * *"
    ongoing = _answer(_report(), "How often is a new sync triggered")
    assert "on the cron schedule `0 3 1 * *` (UTC)" in ongoing
    assert "less than Clever's once-a-day minimum" in ongoing


def test_the_api_settings_change_the_version_answer(settings):
    settings.CLEVER_API_BASE_URL = "https://api.example.test"
    settings.CLEVER_OAUTH_BASE_URL = "https://login.example.test"
    assert _answer(_report(), "Which version of Clever's API") == (
        f"Data API {endpoints.API_VERSION} at https://api.example.test, district tokens from "
        f"https://login.example.test{endpoints.TOKENS}."
    )


# --- both formats, well formed -----------------------------------------------------------------

SETTING_COMBINATIONS = [
    {},
    {"CLEVER_ROSTERING_ONLY": True, "CLEVER_EVENTS_CRON": "*/5 * * * *"},
    {
        "CLEVER_OIDC_ENABLED": True,
        "CLEVER_APP_ENVIRONMENT": "production",
        "CLEVER_SUPPORTED_USER_TYPES": ["teacher", "district_admin"],
        "CLEVER_ACCOUNT_MATCHING": ["clever_id"],
        "CLEVER_SYNC_CRON": "0 3 * * 1",
    },
    {"CLEVER_SUPPORTED_USER_TYPES": [], "CLEVER_SYNC_USER_ROLES": []},
]


@pytest.mark.parametrize("overrides", SETTING_COMBINATIONS)
def test_every_answer_is_one_tidy_paragraph(settings, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    markdown = _report()
    answers = _answers(markdown)
    assert len(answers) >= 29
    for question, answer in answers.items():
        # A line break or a tag in the wrong place of a template shows up as a stray space.
        assert not re.search(r" [,.;:)]|\( |  |\{|\}\}|%\}", answer.replace("{id}", "")), (
            question,
            answer,
        )
        assert answer[0].isupper() or answer[0].isdigit(), (question, answer)
    assert "\n\n\n" not in markdown and not re.search(r"[ \t]$", markdown, re.MULTILINE)


@pytest.mark.parametrize("overrides", SETTING_COMBINATIONS)
def test_the_page_and_the_markdown_say_the_same(staff_client, settings, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    page = staff_client.get(reverse("golive:report")).content.decode()
    markdown = staff_client.get(reverse("golive:report_markdown")).content.decode()
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page)
    assert [html.unescape(q) for q, _ in pairs] == list(_answers(markdown))
    for (_, page_answer), md_answer in zip(pairs, _answers(markdown).values(), strict=True):
        assert html.unescape(page_answer) == md_answer.replace("`", "")
    sections = re.findall(r"^## (.+)$", markdown, re.MULTILINE)
    assert [html.unescape(t) for t in re.findall(r"<h2>(.*?)</h2>", page)] == sections


def test_the_page_escapes_what_settings_put_in_it(staff_client, settings):
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "email"]
    settings.CLEVER_VERIFIED_EMAIL_DOMAINS = ["<b>evil</b>.edu"]
    page = staff_client.get(reverse("golive:report")).content.decode()
    assert "<b>evil</b>" not in page and "&lt;b&gt;evil&lt;/b&gt;.edu" in page
    markdown = staff_client.get(reverse("golive:report_markdown")).content.decode()
    assert "<b>evil</b>.edu (CLEVER_VERIFIED_EMAIL_DOMAINS)" in markdown


def test_the_disconnect_archive_delay_changes_the_deletion_answer(settings):
    question = "Is there any case where progress data would be deleted?"
    settings.CLEVER_DISCONNECT_ARCHIVE_DAYS = 30
    answer = _answer(_report(), question)
    assert "archived 30 days later (CLEVER_DISCONNECT_ARCHIVE_DAYS), still not deleted" in answer
    assert answer.startswith("No:")
    settings.CLEVER_DISCONNECT_ARCHIVE_DAYS = 0
    answer = _answer(_report(), question)
    assert "keeps its records live until they are purged" in answer
