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
