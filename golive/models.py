"""Go-live state: checklist results, district connections and their launch, launch testers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
    """What ops noted of a district's go-live, from request or invite to launch.

    Every one of these steps happens in Clever's dashboard (approving a request, inviting a
    district, setting or bringing forward its launch date); ``state`` and ``launch_date`` are
    ops' notes of them, and connect or launch nothing. What Clever has done is read from
    Clever: the linked ``rostering.District`` says whether Clever's token list holds the
    district (connected) or not (disconnected), and its ``clever_launch_date`` is the launch date
    Clever's district record gives. ``effective_state`` combines them (``launch_of`` says which
    launch date decides).
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
    # "connected" here means ops noted the request approved in Clever's dashboard; the district
    # is connected only once Clever's token list holds it (effective_state).
    state = models.CharField(max_length=16, choices=State.choices)
    # Ops' note of the launch date set in Clever's dashboard (UTC date). Logins follow Clever's
    # own launch date once we have read it; this note decides only until then (launch_of).
    launch_date = models.DateField(null=True, blank=True)
    # Set by "Mark launched in Clever today" (cleared by its undo, which restores the launch date
    # noted before it, kept here meanwhile).
    launched_at = models.DateTimeField(null=True, blank=True)
    launch_date_before = models.DateField(null=True, blank=True)
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

    def effective_state(self, *, today: dt.date, district: District | None) -> str:
        """The state ops see: their notes, corrected by what Clever says. ``district``: the
        rostering district (None when Clever's token list has never held it)."""
        if district is None:
            if self.state in (self.State.CONNECTED, self.State.LAUNCHED):
                # Approved in Clever's dashboard (so ops noted), but no token yet: not connected.
                return APPROVED
            return self.state
        if district.status == District.Status.DISCONNECTED:
            return self.State.DISCONNECTED
        # The district is in Clever's token list: it connected, whatever we last noted.
        launch = launch_of(district=district, connection=self, today=today)
        return self.State.LAUNCHED if launch.launched else self.State.CONNECTED


# A request ops noted as approved in Clever's dashboard, whose token Clever's list does not hold
# yet (shown, never stored: its row holds "connected").
APPROVED = "approved"
STATE_LABELS = {
    **dict(DistrictConnection.State.choices),
    APPROVED: "Approved in Clever (no token yet)",
}


def state_label(state: str) -> str:
    """How a go-live state reads on the page."""
    return STATE_LABELS.get(state, state)


@dataclass(frozen=True)
class Launch:
    """The launch date that decides a district's logins, and whose it is."""

    date: dt.date | None
    # True: Clever's (its district record's launch_date); False: ops' note (the fallback).
    from_clever: bool
    launched: bool


def launch_of(
    *, district: District | None, connection: DistrictConnection | None, today: dt.date
) -> Launch:
    """Clever's launch date decides when we have read it (``District.clever_launch_date``);
    until then (never read, or Clever gave none we could read) ops' note decides, as before
    Clever's was read: launched from our launch date on."""
    if district is not None and district.clever_launch_date is not None:
        clever = district.clever_launch_date
        return Launch(date=clever, from_clever=True, launched=clever <= today)
    if connection is None:
        return Launch(date=None, from_clever=False, launched=False)
    ours = connection.launch_date
    # Rows from before launch was derived from the date may still hold "launched".
    launched = connection.state == DistrictConnection.State.LAUNCHED or (
        ours is not None and ours <= today
    )
    return Launch(date=ours, from_clever=False, launched=launched)


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
