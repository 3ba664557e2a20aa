"""Certification answers checked against what the code does (not only against the settings)."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from golive import checklist
from golive.models import DistrictConnection, LaunchTester
from golive.report import admin_deletable_types, report_facts, report_markdown
from rostering.models import SectionStudent, UserRole
from tests.factories import (
    CleverUserFactory,
    DistrictFactory,
    SectionStudentFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# The apps whose code runs in production (the look-alike never does).
PRODUCT_DIRS = ("accounts", "clever", "config", "golive", "home", "rostering", "sso")
DELETES = re.compile(r"\.delete\(|\b_raw_delete\b|DELETE\s+FROM|\bTRUNCATE\b", re.IGNORECASE)


def _report() -> str:
    out = StringIO()
    call_command("certification_report", stdout=out)
    return out.getvalue()


def _answer(markdown: str, question_start: str) -> str:
    found = re.findall(
        r"^\*\*" + re.escape(question_start) + r"[^*]*\*\*\n\n(.+)$", markdown, re.MULTILINE
    )
    assert len(found) == 1, f"no single question starting {question_start!r}"
    return found[0]


# --- Student progress: what we store, what deletes it ---------------------------------------------

STORED = "Does your application store progress data"
DELETED = "Is there any case where progress data would be deleted"

# Every table the product keeps, and the words the answer says it in (None: covered by "what
# Clever shares" or housekeeping). A new model fails here: say in
# templates/golive/report/answers/progress/store.md what it holds.
MODELS = {
    "accounts.user": "what Clever shares (the roster)",
    "accounts.accountlink": "the links between accounts made in our app before Clever",
    "rostering.district": "what Clever shares (the roster)",
    "rostering.school": "what Clever shares (the roster)",
    "rostering.term": "what Clever shares (the roster)",
    "rostering.course": "what Clever shares (the roster)",
    "rostering.section": "what Clever shares (the roster)",
    "rostering.sectionteacher": "what Clever shares (the roster)",
    "rostering.sectionstudent": "what Clever shares (the roster)",
    "rostering.userrole": "what Clever shares (the roster)",
    "rostering.userschool": "what Clever shares (the roster)",
    "rostering.contactrelationship": "what Clever shares (the roster)",
    "rostering.syncrun": "our sync history",
    "rostering.csvdistrict": "their SFTP accounts and schedules",
    "rostering.csvschedule": "their SFTP accounts and schedules",
    "rostering.csvfile": "the roster files districts send for CSV",
    "rostering.csvrunfile": "our sync history",
    "rostering.csvrunnote": "our sync history",
    "rostering.syncerror": "our sync history",
    "sso.loginrecord": "a record of each login for the go-live checklist",
    "sso.redeemedcode": None,  # hashes of used login codes, pruned after a day
    "sso.loginrefusal": "the refused logins of each person for ops' support page (kept 90 days)",
    "golive.checklistrun": "go-live checklist runs",
    "golive.checkresult": "go-live checklist runs",
    "golive.districtconnection": "the go-live state of each district connection",
    "golive.launchtester": "launch testers",
}


def test_no_table_holds_progress_data():
    ours = {
        m._meta.label_lower
        for m in apps.get_models()
        if m._meta.app_label in ("accounts", "rostering", "sso", "golive", "home")
    }
    assert ours == set(MODELS), "a model was added or removed: check the progress answers"
    answer = _answer(_report(), STORED)
    assert answer.startswith("No. We store no progress or usage data")
    for words in filter(None, MODELS.values()):
        assert words in answer, words
    assert "a preferred name" in answer  # the one field of an account ops write


def _deleting_functions() -> set[tuple[str, str]]:
    """(file, function) of every statement in the product's code that deletes rows."""
    found: set[tuple[str, str]] = set()
    for folder in PRODUCT_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            if not DELETES.search(source):
                continue
            tree = ast.parse(source)
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    body = ast.get_source_segment(source, node) or ""
                    inner = {
                        ast.get_source_segment(source, n) or ""
                        for n in ast.walk(node)
                        if n is not node and isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                    }
                    own = body
                    for text in inner:
                        own = own.replace(text, "")
                    if DELETES.search(own.split("\n", 1)[1] if "\n" in own else ""):
                        found.add((str(path.relative_to(ROOT)), node.name))
    return found


def test_the_deletion_answer_names_every_path_in_the_code_that_deletes():
    # Each of these is named in the answer; a new one fails here until the answer names it.
    assert _deleting_functions() == {
        ("rostering/services.py", "district_purge"),  # `district_purge`
        ("sso/services.py", "redeemed_codes_prune"),  # "the hashes of used login codes"
        ("sso/services.py", "login_refusals_prune"),  # "the record of a refused login"
        ("config/session_store.py", "cycle_key"),  # "a session when its user logs out"
        ("config/session_store.py", "delete"),
        ("config/session_cache.py", "delete"),  # the same, when sessions live in Redis
        ("rostering/csvservices.py", "csv_schedule_remove"),  # "a CSV district's pending schedule"
        ("golive/services.py", "launch_tester_remove"),  # "a launch tester"
    }
    answer = _answer(_report(), DELETED)
    assert answer.startswith("No: we store no progress data, so none is ever deleted.")
    assert "`python manage.py district_purge CLEVER_ID`" in answer
    assert "the hashes of used login codes after a day" in answer
    assert "the record of a refused login after 90 days (CLEVER_LOGIN_REFUSALS_KEEP_DAYS)" in answer
    assert "a session when its user logs out" in answer
    assert "remove a CSV district's pending schedule" in answer
    assert "and a launch tester on the go-live districts page" in answer
    # The sync's stores only drop their own staging tables; neither deletes a row.
    for store in ("rostering/sync/pg.py", "rostering/sync/orm.py", "rostering/sync/events.py"):
        assert not re.search(r"\.delete\(|DELETE\s+FROM", (ROOT / store).read_text(), re.I)


def test_the_admin_deletes_the_answer_names_are_the_ones_the_admin_offers(client):
    ops = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(ops)
    named = admin_deletable_types()
    assert {"users", "districts", "sync runs"} <= set(named)
    # Inline rows without a delete box (a run's errors, a checklist's results) are not named.
    assert "sync errors" not in named and "check results" not in named
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert page.status_code == 200
        # The admin's own decision for this request: "Delete selected" is offered or not.
        offers = "delete_selected" in model_admin.get_actions(page.wsgi_request)
        assert offers == (str(meta.verbose_name_plural) in named), meta.label
    connection = DistrictConnection.objects.create(
        clever_district_id="d" * 24, name="Springfield", state="requested"
    )
    LaunchTester.objects.create(connection=connection, clever_user_id="u" * 24)
    page = client.get(reverse("admin:golive_districtconnection_change", args=[connection.pk]))
    assert ('name="testers-0-DELETE"' in page.content.decode()) == ("launch testers" in named)
    answer = _answer(_report(), DELETED)
    listed = ", ".join(named[:-1]) + " and " + named[-1]
    assert f"The Django admin lets ops delete {listed};" in answer


def test_an_account_deleted_in_the_admin_takes_its_links_and_a_district_with_accounts_stays(
    client,
):
    ops = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(ops)
    enrollment = SectionStudentFactory()
    student = enrollment.user
    UserRole.objects.create(user=student, role="student")
    response = client.post(
        reverse("admin:accounts_user_delete", args=[student.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=student.pk).exists()
    assert not UserRole.objects.filter(user_id=student.pk).exists()
    assert not SectionStudent.objects.filter(pk=enrollment.pk).exists()

    district = DistrictFactory()
    SyncRunFactory(district=district)
    CleverUserFactory(district=district, role="teacher")
    page = client.post(reverse("admin:rostering_district_delete", args=[district.pk]))
    assert "would require deleting the following protected related objects" in (
        page.content.decode()
    )
    client.post(reverse("admin:rostering_district_delete", args=[district.pk]), {"post": "yes"})
    assert type(district).objects.filter(pk=district.pk).exists()
    answer = _answer(_report(), DELETED)
    assert "an account deleted there takes its roles, schools, enrollments and teaching links" in (
        answer
    )
    assert "cannot be deleted while accounts belong to it" in answer


def test_the_deletion_answer_follows_what_the_admin_allows(settings):
    facts = report_facts()
    none = _answer(report_markdown(dataclasses.replace(facts, admin_deletes=())), DELETED)
    assert "The Django admin lets ops delete nothing." in none
    assert "an account deleted there" not in none
    runs_only = dataclasses.replace(facts, admin_deletes=("sync runs",))
    answer = _answer(report_markdown(runs_only), DELETED)
    assert "The Django admin lets ops delete sync runs." in answer
    assert "an account deleted there" not in answer and "a district takes" not in answer


def test_the_progress_answers_mention_logins_only_when_people_log_in(settings):
    settings.CLEVER_ROSTERING_ONLY = False
    markdown = _report()
    assert "a record of each login for the go-live checklist" in _answer(markdown, STORED)
    assert "Housekeeping deletes only login machinery" in _answer(markdown, DELETED)
    settings.CLEVER_LOGIN_REFUSALS_KEEP_DAYS = 1
    markdown = _report()
    assert "the refused logins of each person for ops' support page (kept 1 day)" in _answer(
        markdown, STORED
    )
    assert "the record of a refused login after 1 day (" in _answer(markdown, DELETED)
    settings.CLEVER_ROSTERING_ONLY = True
    markdown = _report()
    assert "login" not in _answer(markdown, STORED).lower()
    assert "login" not in _answer(markdown, DELETED).lower()


# --- Admin edits: what persists ---------------------------------------------------------------

PERSIST = "If you can do any of the above, will the changes persist?"
CREATE = "Can a teacher or admin create users who are not managed"


def test_the_edit_answers_follow_matching_and_rostering_only(settings):
    settings.CLEVER_ROSTERING_ONLY = False
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id", "sis_id"]
    markdown = _report()
    persist = _answer(markdown, PERSIST)
    assert "is never written by the sync or a login, so it persists" in persist
    assert "persist as they are until account matching links one to a Clever user" in persist
    assert "a person's name and email until their next login, which rewrites them" in persist
    assert "unless account matching links one to a Clever user" in _answer(markdown, CREATE)

    settings.CLEVER_ROSTERING_ONLY = True
    settings.CLEVER_ACCOUNT_MATCHING = ["clever_id"]
    markdown = _report()
    persist = _answer(markdown, PERSIST)
    assert "is never written by the sync, so it persists" in persist
    assert "Accounts made in our app persist as they are." in persist
    assert "login" not in persist.lower()
    assert _answer(markdown, CREATE).endswith("the sync never updates or archives them.")


# --- Rostering only: nothing about logging in -------------------------------------------------

SIGN_IN = re.compile(
    r"\blog(?:s|ged|ging)?[ -]?in\b|\blogins?\b|\bSSO\b|\bsign(?:s|ed|ing)?[ -]?in\b|"
    r"Instant Login|Portal|id_token|OpenID|/me\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"CLEVER_EVENTS_CRON": "*/15 * * * *", "CLEVER_APP_ENVIRONMENT": "production"},
        {
            "CLEVER_ACCOUNT_MATCHING": ["clever_id"],
            "CLEVER_SUPPORTED_USER_TYPES": ["teacher", "district_admin"],
            "CLEVER_OIDC_ENABLED": True,
            "CLEVER_DISCONNECT_ARCHIVE_DAYS": 0,
        },
        {"CLEVER_ACCOUNT_MATCHING": ["clever_id", "email"], "CLEVER_VERIFIED_EMAIL_DOMAINS": []},
    ],
)
def test_the_rostering_only_report_never_says_we_log_anyone_in(settings, overrides):
    settings.CLEVER_ROSTERING_ONLY = True
    for name, value in overrides.items():
        setattr(settings, name, value)
    markdown = _report()
    answers = dict(re.findall(r"^\*\*(.+?)\*\*\n\n(.+)$", markdown, re.MULTILINE))
    assert len(answers) >= 29
    assert {q: a for q, a in answers.items() if SIGN_IN.search(a)} == {}
    # And it agrees with itself: one story for how users are managed and kept current.
    assert answers["Does your application use district-app tokens to sync data?"].startswith("Yes")
    assert (
        "Not applicable: this is a rostering-only integration"
        in answers[
            "Does your application need to run a sync to initialize data in the account before "
            "they can log in?"
        ]
    )
    assert answers["Do you support a user type that has more access than teachers?"].startswith(
        "No. Rostering only"
    )


# --- Events: the report and Celery beat read the same setting ---------------------------------


def _started(events_cron: str) -> str:
    """What a freshly started deployment's beat schedule and report say about events."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEVER_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "CLEVER_EVENTS_CRON": events_cron})
    then = (
        "from django.conf import settings; from golive.report import report_facts; "
        "entry = settings.CELERY_BEAT_SCHEDULE.get('clever-events'); f = report_facts(); "
        "print(entry and entry['task'], entry and entry['schedule']._orig_minute, "
        "f.events and f.events.cron)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {then}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_events_are_scheduled_exactly_when_the_report_says_so():
    assert _started("") == "None None None"
    assert _started("*/15 * * * *") == (
        "rostering.tasks.apply_all_district_events */15 */15 * * * *"
    )


# --- The checklist's words follow the setup too -----------------------------------------------


def test_the_redirect_step_names_the_portal_proof_only_when_people_log_in(settings):
    primary = "https://app.example.com/sso/clever/callback/"
    settings.ALLOWED_HOSTS = ["app.example.com", "testserver"]
    settings.CLEVER_REDIRECT_URI = primary
    settings.CLEVER_REDIRECT_URIS = [primary]
    settings.CLEVER_ROSTERING_ONLY = False
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "pass"
    assert "proved only by a login started from the Clever Portal (test logins)" in (
        outcome.summary
    )
    settings.CLEVER_ROSTERING_ONLY = True
    outcome = checklist.check_redirect_uris()
    assert outcome.status == "pass" and "login" not in outcome.summary.lower()
