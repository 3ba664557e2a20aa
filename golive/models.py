"""Go-live state: checklist results, district connections and their launch, launch testers."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from rostering.models import District


class ChecklistRun(models.Model):
    """One evaluation of the whole go-live checklist."""

    checked_at = models.DateTimeField()
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ready = models.BooleanField(default=False)

    class Meta:
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        verdict = "ready" if self.ready else "not ready"
        return f"Checklist {self.checked_at:%Y-%m-%d %H:%M} ({verdict})"

    @property
    def failing(self) -> list[CheckResult]:
        return [r for r in self.results.all() if r.status == CheckResult.Status.FAIL]


class CheckResult(models.Model):
    """One step's outcome in a checklist run, with the evidence it was judged on."""

    class Status(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        NOT_APPLICABLE = "n/a", "Not applicable"

    run = models.ForeignKey(ChecklistRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=32)
    title = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices)
    summary = models.TextField()
    # What the step looked at, one line each (never a secret).
    evidence = models.JSONField(default=list, blank=True)
    # How to fix it, when it fails.
    fix = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="uniq_run_check")]

    def __str__(self) -> str:
        return f"{self.key}: {self.status}"


class DistrictConnection(models.Model):
    """A district's connection with our Clever app, from request or invite to launch.

    ``state`` is what ops decided; the linked ``rostering.District`` says whether Clever's token
    list currently holds the district (connected) or not (disconnected). ``effective_state``
    combines both with the launch date: a connected district is launched from that date on
    (``launched`` is never stored; rows from before this rule may still hold it).
    """

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested (pending)"
        INVITED = "invited", "Invited"
        CONNECTED = "connected", "Connected"
        LAUNCHED = "launched", "Launched"
        DECLINED = "declined", "Declined"
        DISCONNECTED = "disconnected", "Disconnected"

    clever_district_id = models.CharField(max_length=64, unique=True)
    name = models.TextField(blank=True)
    district = models.OneToOneField(
        "rostering.District",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="connection",
    )
    state = models.CharField(max_length=16, choices=State.choices)
    # The day users get the app in the Clever Portal and may log in (UTC date).
    launch_date = models.DateField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "clever_district_id"]

    def __str__(self) -> str:
        return self.name or self.clever_district_id

    def effective_state(self, *, today: dt.date, district_status: str | None = None) -> str:
        """The state ops see: the decision, corrected by Clever's token list and the date."""
        if district_status is None and self.district_id is not None:
            district_status = self.district.status
        if district_status == District.Status.DISCONNECTED:
            return self.State.DISCONNECTED
        state = self.state
        if district_status == District.Status.CONNECTED and state in (
            self.State.REQUESTED,
            self.State.INVITED,
            self.State.DECLINED,
            self.State.DISCONNECTED,
        ):
            # The district is in Clever's token list: it connected, whatever we last decided.
            state = self.State.CONNECTED
        if state == self.State.CONNECTED and self.launch_date and self.launch_date <= today:
            state = self.State.LAUNCHED
        return state

    def launch_date_passed(self, *, today: dt.date) -> bool:
        return self.launch_date is not None and self.launch_date <= today


class LaunchTester(models.Model):
    """A Clever user who may log in before their district launches (ops testing)."""

    connection = models.ForeignKey(
        DistrictConnection, on_delete=models.CASCADE, related_name="testers"
    )
    clever_user_id = models.CharField(max_length=64)
    note = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "clever_user_id"], name="uniq_launch_tester"
            )
        ]

    def __str__(self) -> str:
        return self.clever_user_id
