"""gunicorn settings for the Clever look-alike when bench-login serves it with gunicorn.

One process: the look-alike's world lives in its memory. Threads, because each login's four
Clever requests come from ten browsers at once. (bench-login serves it with granian by default:
see bench/login.py.)
"""

from __future__ import annotations

workers = 1
worker_class = "gthread"
threads = 8
wsgi_app = "cleverlike.service_wsgi:application"
