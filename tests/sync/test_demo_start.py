"""`make run` connects and syncs the demo districts once the server answers."""

from __future__ import annotations

import pytest

from accounts.models import User
from cleverlike.management.commands import demo
from rostering.models import District, SyncRun

# The step syncs from its own thread: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_start_step_connects_and_syncs_every_demo_district(clever, capsys):
    demo.connect_and_sync_demo_districts().join(60)
    out = capsys.readouterr().out
    assert "Connections: 2 new, 0 disconnected." in out
    assert out.count(": succeeded") == 2
    assert District.objects.filter(status="connected").count() == 2
    assert SyncRun.objects.filter(status="succeeded").count() == 2
    assert User.objects.filter(source="clever").count() == 89 + 9


def test_the_demo_start_step_reports_a_failure_without_stopping_the_demo(clever, capsys, fast):
    clever.world.faults.add("/v3.0/schools", "500", times=20)
    demo.connect_and_sync_demo_districts().join(60)
    assert "did not complete" in capsys.readouterr().out
