"""gunicorn settings for the Clever look-alike when the login benchmark runs it as its own service.

Clever is somebody else's servers; in the benchmark it shares the two cores with the product, so
it is served the way a service would be (gunicorn) rather than by Django's development server,
whose per-request cost is several times gunicorn's. One process: the look-alike's world lives in
its memory. Threads, because each login's four Clever requests come from ten browsers at once.
"""

from __future__ import annotations

import gc
from typing import Any

workers = 1
worker_class = "gthread"
threads = 8


def post_worker_init(worker: Any) -> None:
    """Load the world before serving, then keep full collections from walking it."""
    from cleverlike.world import world

    world.reset()
    gc.collect()
    gc.freeze()
