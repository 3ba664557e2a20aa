"""gunicorn settings for serving the product (``gunicorn -c config/gunicorn.py config.wsgi``).

Command-line options override these. ``post_worker_init`` freezes what the loaded app allocated
(settings, URLconf, models, templates) out of the garbage collector's reach: without it every
full collection walks those ~80k long-lived objects, stalling all of the worker's threads for
tens of milliseconds, which showed up as the login benchmark's p99.
"""

from __future__ import annotations

import gc
import os
from typing import Any

# Two cores: one process per core (the GIL), threads to cover each request's waits on Clever.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))


def post_worker_init(worker: Any) -> None:
    """Move the loaded app's objects to the permanent generation (not collected again)."""
    gc.collect()
    gc.freeze()
