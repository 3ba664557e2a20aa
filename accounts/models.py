from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

# Accounts Clever users get (by the sync or at their first login) are named by their Clever ID.
USERNAME_PREFIX = "clever-"


def clever_username(clever_id: str) -> str:
    """The username of the account made for a Clever user."""
    return USERNAME_PREFIX + clever_id


class Mirrored(models.Model):
    """What every row the sync mirrors carries (records and associations, accounts included):
    archived (never deleted) when Clever stops sharing it, and the run that last saw it.

    Here, in the bottom app, because both ``User`` and ``rostering``'s models use it and imports
    run rostering -> accounts.
    """

    archived_at = models.DateTimeField(null=True, blank=True)
    # The sync run that last saw the row. No database constraint: a sync writes this on up to
    # millions of rows, and a per-row foreign-key check at commit would cost a third of a first
    # sync. Deleting a run still clears it (Django applies SET_NULL).
    last_seen_run = models.ForeignKey(
        "rostering.SyncRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class SyncedFields(Mirrored):
    """A mirrored record (not an association): its synced fields' digest as well."""

    # So a re-sync writes only rows whose data changed.
    sync_digest = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True


def display_name(first: str, last: str, preferred: str = "") -> str:
    """How pages name a person: the preferred first name when there is one, then the last."""
    return " ".join(part for part in (preferred or first, last) if part)


class User(SyncedFields, AbstractUser):
    """Anyone who can log in. Clever users are keyed by ``clever_id``; ops staff have none.

    A Clever user is one row whatever their roles (student, teacher, staff, district_admin,
    contact: see ``rostering.UserRole``), so SSO finds the account the sync created and everything
    tied to a student stays tied to them when they are archived and restored.
    """

    class Source(models.TextChoices):
        CLEVER = "clever", "Clever"
        LOCAL = "local", "Created in our app"

    # Clever strings have no maximum length and emails are not validated by Clever.
    first_name = models.TextField(blank=True)
    last_name = models.TextField(blank=True)
    email = models.TextField(blank=True)
    middle_name = models.TextField(blank=True)
    # Edited in our app; the sync never writes it.
    preferred_name = models.TextField(blank=True)

    source = models.CharField(max_length=16, choices=Source.choices, default=Source.LOCAL)
    clever_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    district = models.ForeignKey(
        "rostering.District",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    # For accounts created in our app before the district used Clever: the student's or
    # teacher's SIS id, so their first Clever login can link this account (CLEVER_ACCOUNT_MATCHING).
    # db_default: the sync's bulk SQL inserts users without naming this column.
    sis_id = models.TextField(blank=True, default="", db_default="")
    # For the same accounts: the district's username for the person (Clever's
    # ``district_username``), when it differs from ours. Matching compares it, or ``username``
    # when it is empty. db_default: as for sis_id.
    district_username = models.TextField(blank=True, default="", db_default="")
    # The CLEVER_ACCOUNT_MATCHING rule (or "manual") that linked this account, made in our app,
    # to its Clever user; "" when the sync or a login created it for Clever. From then on it is
    # Clever-managed (source "clever"). db_default: as for sis_id.
    matched_by = models.CharField(max_length=32, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["district", "archived_at"]),
            models.Index(
                fields=["sis_id"], name="user_local_sis_id", condition=models.Q(clever_id=None)
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.preferred_name)


class AccountLink(models.Model):
    """A link or unlink between an account made in our app and a Clever user: what the matching
    report and a user's history show. Never edited."""

    class Action(models.TextChoices):
        LINKED = "linked", "Linked"
        UNLINKED = "unlinked", "Unlinked"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="link_history")
    clever_id = models.CharField(max_length=64)
    action = models.CharField(max_length=16, choices=Action.choices)
    # sis_id | district_username | email | manual
    rule = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    # Who did it by hand (None: the sync or a login).
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The account the sync or a login had made for the Clever user, merged into ``user``.
    merged_from = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["clever_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.user_id} / {self.clever_id} ({self.rule})"
