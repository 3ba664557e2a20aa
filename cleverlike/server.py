"""A real, threaded HTTP server for the whole project (product and look-alike) in this process.

Used by ``manage.py demo`` (what ``make run`` starts) and by the tests' look-alike fixture.
"""

from __future__ import annotations

import threading

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler


class QuietRequestHandler(WSGIRequestHandler):
    """Logs only failures: the demo and test output stays readable."""

    # Keep-alive responses must not wait ~40 ms for Nagle's algorithm on every reuse.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        if args and len(args) > 1 and str(args[1]).startswith(("4", "5")):
            super().log_message(format, *args)


def start_server(
    host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True
) -> tuple[ThreadedWSGIServer, threading.Thread]:
    """Serve the project on ``host:port`` (0 picks a free port) from a daemon thread."""
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    httpd = ThreadedWSGIServer((host, port), handler, allow_reuse_address=True)
    httpd.daemon_threads = True
    httpd.set_app(WSGIHandler())
    thread = threading.Thread(target=httpd.serve_forever, name=f"http-{port}", daemon=True)
    thread.start()
    return httpd, thread
