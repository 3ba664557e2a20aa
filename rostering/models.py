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

    class Source(models.TextChoices):
        """Where the district's roster comes from."""

        CLEVER = "clever", "Clever Data API"
        CSV = "csv", "CSV files (Clever's SFTP format)"

    # Clever's id; a CSV district's is "csv:<KEY>" (a colon is never in a Clever id).
    clever_id = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CLEVER)
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
    # The Clever app (CLEVER_CLIENT_ID) in force when the run started, whose token list gives the
    # district's tokens: go-live evidence counts only runs made with the app configured now.
    client_id = models.CharField(max_length=128, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written every CLEVER_SYNC_HEARTBEAT_SECONDS while the run's process lives (from a thread
    # on its own connection, so a long merge never hides it): a running run whose heartbeat is
    # older than CLEVER_SYNC_HEARTBEAT_TIMEOUT died, and is marked failed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # While it runs: the latest step ("GET /v3.0/users page 3: 30000 users so far") and the
    # records read so far per type, written by the heartbeat thread at most once a second.
    progress = models.TextField(blank=True)
    progress_counts = models.JSONField(default=dict, blank=True)
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
    # Clever's strings, as sent (no length limit of ours).
    relationship = models.TextField(blank=True)
    type = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "student"], name="uniq_contact_student")
        ]


class CsvDistrict(models.Model):
    """A district rostered from Clever-format CSV files: its drop login and where files come from.

    Its ``district`` (``source="csv"``) holds the roster like any other; record ids are the files'
    own, scoped to the district (``rostering.csvsource.scoped_id``).
    """

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="csv")
    # The district's KEY: its SFTP drop username and what the commands name it by.
    key = models.SlugField(max_length=40, unique=True)
    # Our drop: a password hash (never the password) and/or OpenSSH authorized keys.
    sftp_password_hash = models.CharField(max_length=256, blank=True, editable=False)
    authorized_keys = models.TextField(blank=True)
    # Or we fetch from the district's SFTP server; secrets encrypted at rest.
    fetch_host = models.CharField(max_length=255, blank=True)
    fetch_port = models.PositiveIntegerField(default=22)
    fetch_username = models.CharField(max_length=255, blank=True)
    fetch_password_ciphertext = models.TextField(blank=True, editable=False)
    fetch_key_ciphertext = models.TextField(blank=True, editable=False)
    fetch_folder = models.CharField(max_length=1024, blank=True, default=".")
    # The server's host key, trusted on first contact; a different key later is refused.
    fetch_host_key = models.TextField(blank=True, editable=False)
    # The drop's last upload activity, and whether files arrived since the last run took them.
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    files_pending = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CSV district"

    def __str__(self) -> str:
        return self.key

    @property
    def fetches(self) -> bool:
        """Whether files are read from the district's own SFTP server (else: our drop)."""
        return bool(self.fetch_host)

    @property
    def fetch_password(self) -> str:
        return (
            crypto.decrypt(self.fetch_password_ciphertext) if self.fetch_password_ciphertext else ""
        )

    @property
    def fetch_private_key(self) -> str:
        return crypto.decrypt(self.fetch_key_ciphertext) if self.fetch_key_ciphertext else ""

    def set_fetch_secrets(self, *, password: str = "", private_key: str = "") -> None:
        self.fetch_password_ciphertext = crypto.encrypt(password) if password else ""
        self.fetch_key_ciphertext = crypto.encrypt(private_key) if private_key else ""


class CsvFile(models.Model):
    """One roster file as received (drop, fetch or zip), kept through Django's storage API."""

    class Via(models.TextChoices):
        DROP = "drop", "SFTP drop"
        FETCH = "fetch", "SFTP fetch"
        ZIP = "zip", "Zip upload"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="csv_files")
    name = models.CharField(max_length=64)  # e.g. "students.csv"
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    # The file's modification time where the sender gave one (fetch: the server's mtime).
    modified_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    storage_name = models.CharField(max_length=512)

    class Meta:
        ordering = ["-received_at", "name"]
        indexes = [models.Index(fields=["district", "name", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes, {self.received_at:%Y-%m-%d %H:%M})"


class CsvRunFile(models.Model):
    """A file a run read, with its rows read, applied and skipped."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="csv_files")
    file = models.ForeignKey(CsvFile, on_delete=models.PROTECT, related_name="runs")
    rows_read = models.IntegerField(default=0)
    rows_applied = models.IntegerField(default=0)
    rows_skipped = models.IntegerField(default=0)

    class Meta:
        ordering = ["file__name"]


class CsvRunNote(models.Model):
    """Something a CSV run says in words (e.g. a school's id changed between exports)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="csv_notes")
    message = models.TextField()


class CsvSchedule(models.Model):
    """When a CSV district runs by itself: once at a time, hourly, or daily; Pending until due."""

    class Kind(models.TextChoices):
        ONCE = "once", "Once"
        HOURLY = "hourly", "Hourly"
        DAILY = "daily", "Daily"

    csv = models.ForeignKey(CsvDistrict, on_delete=models.CASCADE, related_name="schedules")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Once: this time; hourly: its minute; daily: its hour and minute (UTC).
    at = models.DateTimeField()
    # The next start; null once a one-off run started (the schedule is then spent).
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_run_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.at:%Y-%m-%d %H:%M}"
