"""WSGI entry for the look-alike served on its own (bench-login): load its world, then serve.

``cleverlike.service_settings`` (no product middleware, only ``/clever/``; no database or
cache). The world is loaded here, at import, so the first logins do not pay for it, and what it
allocated is then kept out of the garbage collector's full passes.
"""

from __future__ import annotations

import gc
import os

from django.core import signals
from django.core.cache import close_caches
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, reset_queries

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleverlike.service_settings")
application = get_wsgi_application()

from cleverlike.world import world  # noqa: E402  (needs the app registry loaded above)

world.reset()
# Its state lives in memory: it opens no database or cache connection, so Django's per-request
# housekeeping of them (about an eighth of this process's CPU under bench-login) has nothing to do.
signals.request_started.disconnect(reset_queries)
signals.request_started.disconnect(close_old_connections)
signals.request_finished.disconnect(close_old_connections)
signals.request_finished.disconnect(close_caches)
gc.collect()
gc.freeze()
