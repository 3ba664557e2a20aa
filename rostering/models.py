"""What districts share with us through Clever, keyed by Clever ID.

Every synced row carries its Clever ID, the fields we use (no others: children's data),
``archived_at`` (null while Clever shares it) and the run that last saw it. Nothing a sync does
deletes a row: records Clever stops sharing are archived and restored on the same row when their
Clever ID reappears, so history tied to them reattaches.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Mirrored, SyncedFields
from clever import usertypes
from rostering import crypto


class District(models.Model):
    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected"

    clever_id = models.CharField(max_length=64, unique=True)
    name = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED)
    token_ciphertext = models.TextField(blank=True, editable=False)
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    # What Clever's own district record (GET /v3.0/districts/{id}) said when we last read it, at
    # every full sync and token refresh: the launch date set in Clever's dashboard (it gates
    # logins, golive.selectors), and the state of the district's SIS sync to Clever.
    clever_launch_date = models.DateField(
        "Clever's launch date", null=True, blank=True, editable=False
    )
    clever_state = models.CharField(max_length=16, blank=True, editable=False)
    clever_pause_start = models.DateTimeField(null=True, blank=True, editable=False)
    clever_pause_end = models.DateTimeField(null=True, blank=True, editable=False)
    clever_last_sync = models.DateTimeField(null=True, blank=True, editable=False)
    clever_error = models.TextField(blank=True, editable=False)
    # When the above was read; None: never (Clever's launch date is then unknown).
    clever_state_checked_at = models.DateTimeField(
        "read from Clever at", null=True, blank=True, editable=False
    )
    # The newest Clever event applied; events are read from here on (starting_after).
    last_event_id = models.CharField(max_length=64, blank=True)
    # When ops were last told this district has not synced for CLEVER_SYNC_STALE_HOURS: one
    # alert per stale spell (a later successful sync re-arms it).
    stale_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Held while a sync runs, on databases without advisory locks (SQLite); see rostering.sync.
    sync_locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or self.clever_id

    @property
    def token(self) -> str:
        """The district-app token, decrypted; "" when none is held."""
        return crypto.decrypt(self.token_ciphertext) if self.token_ciphertext else ""

    def set_token(self, token: str) -> None:
        self.token_ciphertext = crypto.encrypt(token) if token else ""


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        MANUAL = "manual", "Manual"
        LOGIN = "login", "Login"
        EVENT = "event", "Event"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        NEEDS_REVIEW = "needs_review", "Needs review"
        SKIPPED = "skipped", "Skipped"
        DISCARDED = "discarded", "Discarded"

    class Failure(models.TextChoices):
        """How a failed run failed: whether trying again later may help."""

        TRANSIENT = "transient", "Clever unavailable (worth retrying)"
        PERMANENT = "permanent", "Refused or malformed (retrying will not help)"
        UNAUTHORIZED = "unauthorized", "Token refused (district disconnected)"
        INTERNAL = "internal", "Internal error"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    dry_run = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"users": {"created": 3, "updated": 1, "unchanged": 9, "archived": 0, "restored": 0}, ...}
    counts = models.JSONField(default=dict, blank=True)
    # The planned archives awaiting review (needs_review), per type.
    plan = models.JSONField(default=dict, blank=True)
    # Where a failed run stopped, e.g. "GET /v3.0/sections page 3"; and why.
    stopped_at = models.TextField(blank=True)
    error = models.TextField(blank=True)
    failure = models.CharField(max_length=16, choices=Failure.choices, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["district", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.district} {self.trigger} {self.status} #{self.pk}"

    @property
    def retryable(self) -> bool:
        """Whether the run failed in a way a later attempt may not (Clever was unavailable)."""
        return self.status == self.Status.FAILED and self.failure == self.Failure.TRANSIENT


class SyncError(models.Model):
    """One record a run could not take, and why."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="errors")
    record_type = models.CharField(max_length=32)
    clever_id = models.CharField(max_length=64, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)


class Synced(SyncedFields):
    """A roster record mirrored from Clever: keyed by Clever ID, within one district."""

    clever_id = models.CharField(max_length=64, unique=True)
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class School(Synced):
    name = models.TextField(blank=True)
    sis_id = models.TextField(blank=True)
    school_number = models.TextField(blank=True)
    state_id = models.TextField(blank=True)
    nces_id = models.TextField(blank=True)
    low_grade = models.CharField(max_length=32, blank=True)
    high_grade = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.name or self.clever_id


class Term(Synced):
    name = models.TextField(blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or self.clever_id


class Course(Synced):
    name = models.TextField(blank=True)
    number = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name or self.number or self.clever_id


class Section(Synced):
    school = models.ForeignKey(
        School, null=True, on_delete=models.SET_NULL, related_name="sections"
    )
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="sections"
    )
    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.SET_NULL, related_name="sections"
    )
    name = models.TextField(blank=True)
    sis_id = models.TextField(blank=True)
    section_number = models.TextField(blank=True)
    period = models.TextField(blank=True)
    subject = models.TextField(blank=True)
    grade = models.CharField(max_length=32, blank=True)  # normalised: clever.grades
    grade_raw = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name or self.clever_id


class Membership(Mirrored):
    """A synced association (archived, never deleted)."""

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class SectionTeacher(Membership):
    """A teacher of a section; ``position`` 0 is the primary teacher, co-teachers follow."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="teacher_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teaching_links"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "user"], name="uniq_section_teacher")
        ]
        indexes = [models.Index(fields=["user", "archived_at"])]


class SectionStudent(Membership):
    """A student enrolled in a section."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="student_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollment_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "user"], name="uniq_section_student")
        ]
        indexes = [models.Index(fields=["user", "archived_at"])]


# The roles a Clever user record carries (clever.usertypes.ROLES): Role.TEACHER == "teacher".
Role = models.TextChoices(
    "Role",
    [(name.upper(), (name, name.replace("_", " ").capitalize())) for name in usertypes.ROLES],
)


class UserRole(Membership):
    """One of a Clever user's roles, with the role's fields we use."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clever_roles"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # The role's primary school (students, teachers).
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sis_id = models.TextField(blank=True)
    # student_number / teacher_number / staff_id, whichever the role has.
    number = models.TextField(blank=True)
    state_id = models.TextField(blank=True)
    district_username = models.TextField(blank=True)
    title = models.TextField(blank=True)
    grade = models.CharField(max_length=32, blank=True)
    grade_raw = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="uniq_user_role")]
        indexes = [models.Index(fields=["role", "sis_id"])]


class UserSchool(Membership):
    """A school a user belongs to in a role (a student's or teacher's schools, staff's schools)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="school_links"
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="user_links")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "school", "role"], name="uniq_user_school")
        ]


class ContactRelationship(Membership):
    """A contact's relationship to a student, as Clever states it."""

    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student_relationships"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_relationships"
    )
    relationship = models.CharField(max_length=32, blank=True)
    type = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "student"], name="uniq_contact_student")
        ]
