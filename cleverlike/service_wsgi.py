"""WSGI entry for the look-alike served on its own (bench-login): load its world, then serve.

``cleverlike.service_settings`` (no product middleware, only ``/clever/``). The world is loaded
here, at import, so the first logins do not pay for it, and what it allocated is then kept out
of the garbage collector's full passes.
"""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleverlike.service_settings")
application = get_wsgi_application()

from cleverlike.world import world  # noqa: E402  (needs the app registry loaded above)

world.reset()
gc.collect()
gc.freeze()
