"""The certification report: the facts Clever's certification questions are answered from.

``report_facts`` reads this deployment's settings and the code's own declarations (supported
user types, the record types the sync mirrors, the API version, the schedules) into one typed
object; every word of the answers lives in the templates under ``templates/golive/report/``,
which render the same questions as the page ``/golive/report/`` and as Markdown
(``report_markdown``: ``/golive/report.md`` and ``python manage.py certification_report``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import matching
from clever import endpoints, usertypes
from rostering.selectors import mirrored_record_types
from sso.services import supported_user_types

# The rules account matching knows (``accounts.matching``); it skips any other name.
MATCHING_RULES = matching.RULES


@dataclass(frozen=True)
class Schedule:
    """A five-field cron expression (UTC) read into the shape the report names it by."""

    cron: str
    # daily | weekly | hourly | hours | every_hours | every_minutes | every_minute | cron
    kind: str
    # Whether it runs at least once every day (Clever's minimum for the full sync).
    daily: bool
    minute: int | None = None
    hour: int | None = None
    hours: str = ""  # "2,14" (kind "hours")
    step: int | None = None  # "*/6" is 6 (kinds "every_hours", "every_minutes")
    weekday: str = ""  # "Monday" (kind "weekly")


def schedule_parse(cron: str) -> Schedule:
    """The cron expression as a Schedule; kind "cron" when it has no simpler reading."""
    fields = cron.split()
    if len(fields) != 5:
        return Schedule(cron=cron, kind="cron", daily=False)
    minute, hour, day, month, weekday = fields
    every_day = day == "*" and month == "*" and weekday == "*"
    at_minute = int(minute) if minute.isdigit() else None
    if at_minute is not None and hour.isdigit():
        if every_day:
            return Schedule(cron, "daily", True, minute=at_minute, hour=int(hour))
        if day == "*" and month == "*" and weekday.isdigit() and int(weekday) <= 7:
            # cron counts Sunday as 0 or 7; calendar counts Monday as 0.
            name = calendar.day_name[(int(weekday) - 1) % 7]
            return Schedule(cron, "weekly", False, minute=at_minute, hour=int(hour), weekday=name)
    if every_day and at_minute is not None:
        if hour == "*":
            return Schedule(cron, "hourly", True, minute=at_minute)
        if re.fullmatch(r"\d+(,\d+)+", hour):
            return Schedule(cron, "hours", True, minute=at_minute, hours=hour)
        if re.fullmatch(r"\*/\d+", hour):
            return Schedule(cron, "every_hours", True, minute=at_minute, step=int(hour[2:]))
    if every_day and hour == "*":
        if minute == "*":
            return Schedule(cron, "every_minute", True)
        if re.fullmatch(r"\*/\d+", minute):
            return Schedule(cron, "every_minutes", True, step=int(minute[2:]))
    return Schedule(cron=cron, kind="cron", daily=every_day)


@dataclass(frozen=True)
class ReportFacts:
    """What this deployment does, as the certification answers need it. Facts only: no prose."""

    generated_at: dt.datetime
    environment: str  # CLEVER_APP_ENVIRONMENT
    api_version: str
    api_base_url: str
    oauth_base_url: str
    tokens_path: str
    me_path: str
    user_path: str
    rostering_only: bool
    # Days a refused login is kept per person (CLEVER_LOGIN_REFUSALS_KEEP_DAYS), then pruned.
    login_refusals_keep_days: int
    oidc: bool
    # Logins are refused before a district's launch only with the production app; the launch
    # date that decides is Clever's (golive.models.launch_of), ours only until Clever's is read.
    launch_gated: bool
    # Clever user types let in, in the order set (contacts are never let in).
    login_types: tuple[str, ...]
    # The login types that open the district overview (Clever's admin types among login_types).
    admin_login_types: tuple[str, ...]
    # Admin types not let in on their own, admitted as teachers when they also teach.
    admins_as_teachers: tuple[str, ...]
    # The roles the sync mirrors (CLEVER_SYNC_USER_ROLES, as the sync reads them).
    synced_roles: tuple[str, ...]
    # The record types the sync mirrors, in fetch order ("schools", ..., "sections").
    record_types: tuple[str, ...]
    sync: Schedule
    events: Schedule | None  # None: CLEVER_EVENTS_CRON is empty, no events are scheduled
    archive_max_fraction: float
    archive_max_count: int
    archive_min_count: int
    disconnect_archive_days: int
    # Account matching after the Clever ID, in order (CLEVER_ACCOUNT_MATCHING).
    matching: tuple[str, ...]
    verified_email_domains: tuple[str, ...]
    # What ops can delete in the Django admin (plural names; inline rows included), as the
    # registered admins allow it to a superuser.
    admin_deletes: tuple[str, ...]

    @property
    def email_matching(self) -> bool:
        return "email" in self.matching


def admin_deletable_types() -> tuple[str, ...]:
    """The record types the Django admin lets a superuser delete (inline rows included)."""
    request = HttpRequest()
    # An unsaved superuser: has_delete_permission then says only what each admin allows.
    request.user = get_user_model()(is_active=True, is_staff=True, is_superuser=True)
    names: dict[str, None] = {}
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        if model_admin.has_delete_permission(request):
            names[str(model._meta.verbose_name_plural)] = None
        for inline in model_admin.get_inline_instances(request):
            # Django's formsets offer a delete box only when both say yes.
            if inline.can_delete and inline.has_delete_permission(request):
                names[str(inline.model._meta.verbose_name_plural)] = None
    return tuple(names)


def report_facts() -> ReportFacts:
    """The facts the certification answers are built from, read now from settings and code."""
    login_types = tuple(t for t in supported_user_types() if t != usertypes.CONTACT)
    admin_order = [t for t in usertypes.LOGIN_TYPES if t in usertypes.ADMIN_TYPES]
    teacher_in = usertypes.TEACHER in login_types
    domains = (d.strip().lower().lstrip("@") for d in settings.CLEVER_VERIFIED_EMAIL_DOMAINS)
    events_cron = settings.CLEVER_EVENTS_CRON.strip()
    return ReportFacts(
        generated_at=timezone.now(),
        environment=settings.CLEVER_APP_ENVIRONMENT,
        api_version=endpoints.API_VERSION,
        api_base_url=settings.CLEVER_API_BASE_URL,
        oauth_base_url=settings.CLEVER_OAUTH_BASE_URL,
        tokens_path=endpoints.TOKENS,
        me_path=endpoints.ME,
        user_path=endpoints.USER,
        rostering_only=settings.CLEVER_ROSTERING_ONLY,
        login_refusals_keep_days=settings.CLEVER_LOGIN_REFUSALS_KEEP_DAYS,
        oidc=settings.CLEVER_OIDC_ENABLED,
        launch_gated=settings.CLEVER_APP_ENVIRONMENT == "production",
        login_types=login_types,
        admin_login_types=tuple(t for t in login_types if t in usertypes.ADMIN_TYPES),
        admins_as_teachers=tuple(t for t in admin_order if teacher_in and t not in login_types),
        synced_roles=tuple(
            dict.fromkeys(r for r in settings.CLEVER_SYNC_USER_ROLES if r in usertypes.ROLES)
        ),
        record_types=tuple(mirrored_record_types()),
        sync=schedule_parse(settings.CLEVER_SYNC_CRON),
        events=schedule_parse(events_cron) if events_cron else None,
        archive_max_fraction=settings.CLEVER_SYNC_ARCHIVE_MAX_FRACTION,
        archive_max_count=settings.CLEVER_SYNC_ARCHIVE_MAX_COUNT,
        archive_min_count=settings.CLEVER_SYNC_ARCHIVE_MIN_COUNT,
        disconnect_archive_days=settings.CLEVER_DISCONNECT_ARCHIVE_DAYS,
        matching=tuple(
            dict.fromkeys(s for s in settings.CLEVER_ACCOUNT_MATCHING if s in MATCHING_RULES)
        ),
        verified_email_domains=tuple(dict.fromkeys(d for d in domains if d)),
        admin_deletes=admin_deletable_types(),
    )


def report_markdown(facts: ReportFacts) -> str:
    """The report as Markdown (the template, with its layout's blank lines tidied)."""
    text = render_to_string("golive/report.md", {"f": facts})
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
