"""Benchmark complete Clever logins: our button → Clever's authorize → our callback → home page.

Not a test: ``make bench-login`` (or ``python bench/login.py``) starts

- the Clever look-alike as its own service (granian, or gunicorn with --lookalike-server), one
  process (its state lives in memory),
- the product under gunicorn with production settings (``DEBUG`` off, every start-up check on),
  served as if behind a TLS-terminating proxy: its redirect URI is https, and the load
  generator sends X-Forwarded-Proto: https over loopback HTTP (``--debug``: DEBUG=1 over http),
- both on loopback, pointed at each other,

then, after untimed warm-up logins (every person once, then one login per server thread at once,
so each thread has opened its database, Redis and Clever connections; ``--cold`` skips the
latter), drives complete logins with N concurrent virtual users (each its own cookie jar) for a
bounded number of logins and time per level, and prints logins/s, p50/p99 latency of the whole
login and of the callback alone, and errors. SQLite by default (a file under var/); PostgreSQL
when DATABASE_URL is set. Sessions in Redis as in production (CACHE_URL, else database 13 of a
Redis on 127.0.0.1:6379 when one answers), else in the database. The look-alike's ``login_as``
stands in for the person's click on Clever's page; the product itself never uses it.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CLIENT_ID, CLIENT_SECRET = "bench-client-id", "bench-client-secret"


# Sync the district first (the sync's own service), so home pages show real class lists.
SYNC_DISTRICTS = """
import sys, django
django.setup()
from rostering.connections import district_ensure_connected
from rostering.services import district_sync
for clever_id in sys.argv[1:]:
    district = district_ensure_connected(clever_id=clever_id)
    run = district_sync(district=district)
    print(f"synced {district.name}: {run.status}", flush=True)
"""


FIELD_KEYS = """
import django
django.setup()
from django.conf import settings
print(",".join(settings.FIELD_ENCRYPTION_KEYS))
"""


def cpu_seconds(pid: int = 0, *, command: str = "", marker: str = "") -> float:
    """User + system CPU seconds, from /proc, of ``pid`` and its children, or of the processes
    whose command is ``command`` and whose command line contains ``marker``."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        name = head.split("(", 1)[1]
        if command and name == command and marker:
            try:
                if marker not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    continue
            except OSError:
                continue
        if (pid and pid in (int(entry.name), int(fields[1]))) or (command and name == command):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu_now(product_pid: int, lookalike_pid: int, database: str) -> tuple[float, ...]:
    """CPU seconds so far: product, look-alike, PostgreSQL backends serving ``database`` (the
    server is shared with other work), this load generator."""
    own = os.times()
    return (
        cpu_seconds(product_pid),
        cpu_seconds(lookalike_pid),
        cpu_seconds(command="postgres", marker=f" {database} ") if database else 0.0,
        own.user + own.system,
    )


def lookalike_command(server: str, port: int) -> list[str]:
    """The look-alike as its own service: granian (default) or gunicorn, one process.

    Clever's servers are not on our machine; here the stand-in shares the two cores with what is
    measured. granian spends about 0.1 ms of CPU per request where gunicorn's gthread worker
    spends 0.4 ms (a hello-world app on this machine), and a login makes four Clever requests.
    The product itself is always served by gunicorn.
    """
    app = "cleverlike.service_wsgi:application"
    if server == "granian":
        return [
            str(Path(PY).parent / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",  # the look-alike's world lives in this process's memory
            "--blocking-threads",
            "8",
            "--log-level",
            "warning",
            app,
        ]
    return [
        str(Path(PY).parent / "gunicorn"),
        "--config",
        str(ROOT / "bench" / "lookalike_gunicorn.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]


def redis_cache_url() -> str:
    """CACHE_URL, else a Redis database of the local server when one answers, else ""."""
    if os.environ.get("CACHE_URL"):
        return os.environ["CACHE_URL"]
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/13"
    except OSError:
        pass
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} did not come up within {seconds:.0f}s")


@dataclass
class Level:
    concurrency: int
    logins: list[float] = field(default_factory=list)
    callbacks: list[float] = field(default_factory=list)
    # Seconds of each step of each login: our button, Clever's authorize, our callback, home.
    steps: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Browser:
    """One virtual user's browser: a keep-alive connection per host and a cookie jar.

    Plain ``http.client`` rather than ``requests``: the load generator shares the two cores with
    what it measures, and ``requests`` costs it several ms of CPU per login. Cookies are kept per
    host by name (path and expiry are not needed here; a deleted cookie is dropped).
    """

    def __init__(self, tls_terminated: frozenset[str] = frozenset()) -> None:
        # Hosts reached as if through a TLS-terminating proxy: https:// URLs are fetched over
        # plain HTTP on loopback with X-Forwarded-Proto: https (what the proxy would add).
        self.tls_terminated = tls_terminated
        self.connections: dict[str, http.client.HTTPConnection] = {}
        self.cookies: dict[str, dict[str, str]] = {}

    def get(self, url: str) -> tuple[int, dict[str, str], bytes]:
        """GET ``url`` (no redirects followed); (status, lower-cased headers, body)."""
        parts = urlsplit(url)
        host = parts.netloc
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        jar = self.cookies.setdefault(host, {})
        headers = {"Accept": "*/*"}
        if host in self.tls_terminated:
            headers["X-Forwarded-Proto"] = "https"
        elif parts.scheme != "http":
            raise ValueError(f"bench browser speaks plain HTTP only: {url}")
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        for attempt in (1, 2):
            conn = self.connections.get(host)
            if conn is None:
                conn = self.connections[host] = http.client.HTTPConnection(host, timeout=30)
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                conn.close()
                del self.connections[host]
                if attempt == 2:
                    raise
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, _, attributes = rest.partition(";")
            attributes = attributes.lower()
            if "max-age=0" in attributes or "expires=thu, 01 jan 1970" in attributes:
                jar.pop(name.strip(), None)
            else:
                jar[name.strip()] = value.strip().strip('"')
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def close(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()


def one_login(browser: Browser, product: str, user_id: str, name: str, level: Level) -> None:
    """One complete login in this virtual user's browser; records latencies or the error.

    Landing on the right home means: the page says this person is logged in.
    """
    browser.cookies.clear()
    started = time.perf_counter()
    timings: list[tuple[str, float]] = []

    def step(what: str, url: str) -> tuple[int, dict[str, str], bytes]:
        t0 = time.perf_counter()
        result = browser.get(url)
        timings.append((what, time.perf_counter() - t0))
        return result

    try:
        status, headers, _ = step("button", f"{product}/sso/clever/login")
        if status != 302:
            return level.error(f"login start {status}")
        authorize = headers["location"]
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        params["login_as"] = user_id
        status, headers, _ = step("authorize", f"{authorize.split('?', 1)[0]}?{urlencode(params)}")
        if status not in (302, 303):
            return level.error(f"authorize {status}")
        status, headers, _ = step("callback", headers["location"])
        level.callbacks.append(timings[-1][1])
        if status != 302:
            return level.error(f"callback {status}")
        status, headers, body = step("home", f"{product}{headers['location']}")
        if status != 200:
            return level.error(f"home {status}")
        if f"Logged in as <strong>{name}</strong>".encode() not in body:
            return level.error("home shows someone else")
    except (OSError, http.client.HTTPException, KeyError) as exc:
        browser.close()
        return level.error(type(exc).__name__)
    level.logins.append(time.perf_counter() - started)
    for what, seconds in timings:
        level.steps.setdefault(what, []).append(seconds)


def run_level(
    product: str,
    users: list[tuple[str, str]],
    concurrency: int,
    max_logins: int,
    max_seconds: float,
) -> Level:
    tls_terminated = frozenset({urlsplit(product).netloc} if product.startswith("https:") else ())

    level = Level(concurrency)
    lock = threading.Lock()
    counter = {"n": 0}
    deadline = time.monotonic() + max_seconds

    def worker(offset: int) -> None:
        browser = Browser(tls_terminated)
        while time.monotonic() < deadline:
            with lock:
                if counter["n"] >= max_logins:
                    break
                n = counter["n"]
                counter["n"] += 1
            user_id, name = users[(n + offset) % len(users)]
            one_login(browser, product, user_id, name, level)
        browser.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.seconds = time.perf_counter() - started
    return level


def first_district(lookalike: str) -> tuple[str, str]:
    """(district id, district token) of the first connected district, from Clever's token list."""
    tokens = requests.get(
        f"{lookalike}/oauth/tokens",
        params={"owner_type": "district"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    ).json()["data"]
    return tokens[0]["owner"]["id"], tokens[0]["access_token"]


def district_users(lookalike: str, token: str, limit: int) -> list[tuple[str, str]]:
    """(id, name as our pages show it) of teachers and students, from Clever's own Data API."""
    ids: list[tuple[str, str]] = []
    for role in ("teacher", "student"):
        body = requests.get(
            f"{lookalike}/v3.0/users",
            params={"role": role, "limit": limit},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        for item in body["data"]:
            name = item["data"].get("name") or {}
            full = " ".join(p for p in (name.get("first"), name.get("last")) if p)
            ids.append((item["data"]["id"], html.escape(full)))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,10,50", help="concurrent users per level")
    parser.add_argument("--logins", type=int, default=1000, help="max logins per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="max seconds per level")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument(
        "--gunicorn-config",
        default=str(ROOT / "config" / "gunicorn.py"),
        help="gunicorn config file ('' for none); the options above override it",
    )
    parser.add_argument("--users", type=int, default=40, help="distinct people per role")
    parser.add_argument("--no-sync", action="store_true", help="skip the roster sync first")
    parser.add_argument("--steps", action="store_true", help="also print each step's latency")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="skip warming every server thread's connections before the first level",
    )
    parser.add_argument(
        "--lookalike-server",
        choices=("granian", "gunicorn"),
        default="granian",
        help="what serves the Clever look-alike (the product is always gunicorn)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="serve the product with DEBUG=1 over plain http (the old setup) instead of production",
    )
    args = parser.parse_args()

    product_port, lookalike_port = free_port(), free_port()
    # In production mode the product is served as if behind a TLS-terminating proxy: its public
    # URLs (redirect URI, cookies) are https; the bench's browser reaches it over loopback HTTP
    # with X-Forwarded-Proto: https (SECURE_PROXY_SSL_HEADER), as the proxy would.
    product = f"{'http' if args.debug else 'https'}://127.0.0.1:{product_port}"
    product_http = f"http://127.0.0.1:{product_port}"
    lookalike = f"http://127.0.0.1:{lookalike_port}/clever"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    cache_url = redis_cache_url()
    env = {
        **os.environ,
        # The look-alike, migrations and the roster sync run in development mode.
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "CLEVER_CLIENT_ID": CLIENT_ID,
        "CLEVER_CLIENT_SECRET": CLIENT_SECRET,
        "CLEVER_OAUTH_BASE_URL": lookalike,
        "CLEVER_API_BASE_URL": lookalike,
        "CLEVER_REDIRECT_URI": f"{product}/sso/clever/callback/",
        "CLEVER_REDIRECT_URIS": f"{product}/sso/clever/callback/",
        "CLEVER_LOOKALIKE_ENABLED": "1",
        # Every virtual user comes from 127.0.0.1: a limit far above the load, still counted
        # (its Redis round trips are part of what a login costs).
        "CLEVER_LOGIN_RATE_LIMIT": "10000000/m",
    }
    # The product itself: production settings, with every start-up check (https redirect URI,
    # a real SECRET_KEY, no look-alike in the product); Clever is the look-alike's process.
    product_env = env
    if not args.debug:
        product_env = {
            **env,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            # District tokens stored by earlier development-mode syncs stay readable.
            "FIELD_ENCRYPTION_KEYS": subprocess.run(
                [PY, "-c", FIELD_KEYS],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip(),
            "CLEVER_LOOKALIKE_ENABLED": "0",
            "CACHE_URL": cache_url,
            # Clever is the look-alike on loopback http: waive only the https base URL check.
            "SILENCED_SYSTEM_CHECKS": "config.E004",
        }
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    if not args.debug:
        subprocess.run(
            [PY, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=product_env,
            check=True,
        )
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                lookalike_command(args.lookalike_server, lookalike_port),
                cwd=ROOT,
                env={**env, "DJANGO_SETTINGS_MODULE": "cleverlike.service_settings"},
                stdout=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    str(Path(PY).parent / "gunicorn"),
                    *(["--config", args.gunicorn_config] if args.gunicorn_config else []),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{product_port}",
                    "--workers",
                    str(args.workers),
                    "--worker-class",
                    args.worker_class,
                    "--threads",
                    str(args.threads),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=product_env,
            )
        )
        wait_for(f"{lookalike}/.well-known/openid-configuration")
        wait_for(f"{product_http}/healthz")
        district_id, token = first_district(lookalike)
        if not args.no_sync:
            subprocess.run([PY, "-c", SYNC_DISTRICTS, district_id], cwd=ROOT, env=env, check=True)
        users = district_users(lookalike, token, args.users)
        db = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        sessions = "sessions in " + ("Redis" if cache_url.startswith("redis") else "the database")
        pg_database = urlsplit(database_url).path.lstrip("/") if db == "PostgreSQL" else ""
        mode = "DEBUG=1, http" if args.debug else "production settings, https via proxy header"
        print(
            f"bench-login: {len(users)} people, "
            f"gunicorn {args.workers}x{args.threads} {args.worker_class}, "
            f"{mode}, {db}, {sessions}, look-alike {args.lookalike_server} 1 process, "
            f"{os.cpu_count()} CPUs, "
            "load generator on http.client"
        )
        print(
            "cpu ms/login: product (gunicorn, all workers) / look-alike / PostgreSQL backends of "
            "this database (0 on SQLite) / this load generator, per completed login"
        )
        # First logins provision accounts and warm caches; not measured. Then one login per
        # server thread, all at once, so that every thread has opened its connections (database,
        # Redis, Clever) before measuring: otherwise the first level's first logins pay for them.
        run_level(product, users, 4, len(users), 120)
        if not args.cold:
            server_threads = args.workers * args.threads
            run_level(product, users, server_threads, 2 * server_threads, 60)
        print(
            f"{'users':>5} {'logins':>7} {'logins/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'cb p50':>8} {'cb p99':>8} {'cpu ms/login':>17} errors"
        )
        lookalike_proc, product_proc = procs
        for concurrency in (int(c) for c in args.levels.split(",")):
            cpu_before = cpu_now(product_proc.pid, lookalike_proc.pid, pg_database)
            level = run_level(product, users, concurrency, args.logins, args.seconds)
            cpu_after = cpu_now(product_proc.pid, lookalike_proc.pid, pg_database)
            rate = len(level.logins) / level.seconds
            done = max(1, len(level.logins))
            cpu = "/".join(
                f"{(after - before) / done * 1000:.0f}"
                for before, after in zip(cpu_before, cpu_after, strict=True)
            )
            print(
                f"{concurrency:>5} {len(level.logins):>7} {rate:>9.1f} "
                f"{pct(level.logins, 50) * 1000:>8.1f} {pct(level.logins, 99) * 1000:>8.1f} "
                f"{pct(level.callbacks, 50) * 1000:>8.1f} {pct(level.callbacks, 99) * 1000:>8.1f} "
                f"{cpu:>17} {sum(level.errors.values())} {level.errors or ''}",
                flush=True,
            )
            if args.steps:
                print(
                    "        steps p50/p99 ms: "
                    + ", ".join(
                        f"{what} {pct(v, 50) * 1000:.1f}/{pct(v, 99) * 1000:.1f}"
                        for what, v in level.steps.items()
                    ),
                    flush=True,
                )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
