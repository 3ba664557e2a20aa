"""The Celery app. Without CELERY_BROKER_URL, tasks run in-process (see settings)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

from config.checks import exit_if_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_unsafe_settings(**kwargs: Any) -> None:
    # Celery runs no system checks that stop it, and its signals swallow exceptions: weak
    # production settings stop it here (SystemExit), by name.
    exit_if_unsafe_settings()
