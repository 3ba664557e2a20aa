from __future__ import annotations

from django.conf import settings
from django.db import models


class LoginRecord(models.Model):
    """A successful Clever login: the evidence the go-live checklist reads."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The login-context type Clever reported (student, teacher, staff, district_admin, ...).
    user_type = models.CharField(max_length=32)
    district = models.ForeignKey(
        "rostering.District", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether the login used the production Clever app credentials (not the development ones).
    production_credentials = models.BooleanField(default=False)
    # The Clever app (CLEVER_CLIENT_ID) the login went through: go-live evidence counts only for
    # the app configured now.
    client_id = models.CharField(max_length=128, blank=True)
    # button | portal (state-less, Clever-initiated)
    entry_point = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client_id", "user_type", "-created_at"])]


class RedeemedCode(models.Model):
    """An authorization code we have posted to Clever, so a replayed callback never posts it again.

    Only a keyed hash of the code is stored; codes live one minute at Clever, so rows older than a
    day are pruned hourly (``sso.tasks.prune_redeemed_codes``, on Celery beat).
    """

    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)


class LoginRefusal(models.Model):
    """A Clever login refused or failed after Clever told us who it was, for the user support
    page's last logins (beside the successes in ``LoginRecord``, which stays successes only: the
    go-live checklist's evidence). No token, code or Clever detail is kept; rows older than
    CLEVER_LOGIN_REFUSALS_KEEP_DAYS are pruned daily (``sso.tasks.prune_login_refusals``).
    """

    class Kind(models.TextChoices):
        # The values are sso.services.LoginFailure kinds; the labels are for ops.
        UNSUPPORTED_TYPE = "unsupported_type", "refused: their type is not supported"
        DISTRICT_NOT_CONNECTED = "district_not_connected", "refused: district not connected"
        NOT_LAUNCHED = "not_launched", "refused: district not launched"
        ACCOUNT_INACTIVE = "account_inactive", "refused: account deactivated"
        CLEVER_UNAVAILABLE = "clever_unavailable", "failed: Clever did not answer"
        CLEVER_REJECTED = "clever_rejected", "failed: Clever's answer was unusable"

    # Keyed by the Clever user id, not the account: a refused person may have no account yet.
    clever_user_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The login-context type Clever reported.
    user_type = models.CharField(max_length=32, blank=True)
    # button | portal
    entry_point = models.CharField(max_length=16, blank=True)
    # The Clever app (CLEVER_CLIENT_ID) the login went through.
    client_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clever_user_id", "-created_at"], name="loginrefusal_user_time")
        ]

    def __str__(self) -> str:
        return f"{self.clever_user_id}: {self.kind}"
