"""gunicorn settings for serving the product (``gunicorn -c config/gunicorn.py config.wsgi``).

Command-line options override these. ``post_worker_init`` freezes what the loaded app allocated
(settings, URLconf, models, templates: ~80k objects) out of the garbage collector's reach. Without
it a full collection in a bench-login worker took 90-100 ms with the GIL held, stalling all of the
worker's threads (a p99 login); with it 5-12 ms. Total GC CPU barely changes (~0.3 ms a login).

``on_starting`` refuses weak production settings before a worker starts (``config/checks.py``),
and ``logger_class`` passes gunicorn's error and access logs through the same redaction as the
app's logs: a callback's request line (and a Referer naming it) carries ``code=`` and ``state=``.
"""

from __future__ import annotations

import gc
import os
from typing import Any

from gunicorn.glogging import Logger

from config.checks import exit_if_unsafe_settings
from config.logging import RedactSecretsFilter

# Two cores: one process per core (the GIL), threads to cover each request's waits on Clever.
# A login's callback holds its thread through three calls to Clever; with 4 threads, short
# requests (the button, the home page) queued behind waiting callbacks. bench-login at 10 users,
# three interleaved rounds: p99 142-191 ms with 8 threads, 158-196 with 6, 203-249 with 4, at
# the same CPU per login.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))


def post_worker_init(worker: Any) -> None:
    """Move the loaded app's objects to the permanent generation (not collected again)."""
    gc.collect()
    gc.freeze()


class RedactingLogger(Logger):
    """gunicorn's logger, with codes, tokens and secrets redacted from every line it writes."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            # On the loggers, not their handlers: reopened or reconfigured handlers keep it.
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())


logger_class = RedactingLogger


def on_starting(server: Any) -> None:
    """Refuse weak production settings, naming each, before any worker starts."""
    # The settings load here, lazily, on the first one the checks read.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    exit_if_unsafe_settings()
