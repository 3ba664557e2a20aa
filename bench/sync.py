"""Benchmark the Secure Sync: a synthetic district through the look-alike over HTTP into PostgreSQL.

    make bench                  # 10k and 100k students
    make bench ARGS=--million   # and 1M

For each size: generate the district (bench/gen_district.py, cached under var/bench/), serve it
from the look-alike in a separate process, then in a fresh process each: a full sync into an
empty database, and a re-sync with no changes. Printed per run: wall time of the sync, rows per
second (records and associations taken), peak RSS of the sync process, and rows written (from
PostgreSQL's own counters, not ours). At 100k students the same data is also loaded by a plain
per-row ``update_or_create`` loop, timed on a subset and extrapolated linearly (said in the
output), and the ratio is printed. Then the same files, as a CSV district, are pushed through our
SFTP drop (``manage.py sftp_serve`` and the client each in a process of their own, as in
production; upload timed apart) and processed into the emptied database by the same engine: rows
per second beside the API sync's, and the sync process's peak RSS at each size (flat in the file
size: rows are streamed, and the ids a run checks are held on disk, in a temporary SQLite
database, not in Python).

The benchmark uses its own database next to DATABASE_URL's (``<name>_bench``), dropped and
created afresh: it never touches the database DATABASE_URL names. It refuses to run without
PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

ROSTER_TABLES = (
    "rostering_sectionstudent",
    "rostering_sectionteacher",
    "rostering_userrole",
    "rostering_userschool",
    "rostering_contactrelationship",
    "rostering_section",
    "rostering_school",
    "rostering_term",
    "rostering_course",
    "accounts_user",
)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup() -> None:
    import django

    django.setup()


# --- child: serve a district from the look-alike ------------------------------------------------


def serve(folder: Path) -> int:
    """Load ``folder`` into the look-alike and serve it on a free port until killed."""
    os.environ["CLEVER_LOOKALIKE_DATA_DIR"] = str(ROOT / "var" / "bench" / "no-demo")
    (ROOT / "var" / "bench" / "no-demo").mkdir(parents=True, exist_ok=True)
    _setup()
    from cleverlike.server import start_server
    from cleverlike.world import world

    world.reset()  # registers the app from CLEVER_CLIENT_ID / SECRET
    world.rate_limit_per_minute = 10**9  # measure our sync, not the window
    started = time.perf_counter()
    world.load_district(folder)
    httpd, thread = start_server("127.0.0.1", 0)
    print(
        f"READY http://127.0.0.1:{httpd.server_address[1]}/clever "
        f"{time.perf_counter() - started:.1f}",
        flush=True,
    )
    thread.join()
    return 0


# --- child: one sync ----------------------------------------------------------------------------


def sync_once(base_url: str) -> int:
    """Connect the look-alike's district and sync it once; print the figures as JSON."""
    _setup()
    from django.conf import settings

    settings.CLEVER_OAUTH_BASE_URL = settings.CLEVER_API_BASE_URL = base_url
    from rostering import connections, services
    from rostering.models import District

    connections.district_connections_refresh()
    district = District.objects.get()
    started = time.perf_counter()
    run = services.district_sync(district=district)
    wall = time.perf_counter() - started
    counts = {k: v for k, v in run.counts.items() if k != "errors"}
    taken = sum(
        c.get("created", 0) + c.get("updated", 0) + c.get("unchanged", 0) for c in counts.values()
    )
    print(
        json.dumps(
            {
                "status": run.status,
                "error": run.error,
                "wall": wall,
                "taken": taken,
                "rss_mb": _peak_rss_mb(),
            }
        ),
        flush=True,
    )
    return 0 if run.status == "succeeded" else 1


# --- child: the same district as CSV files through our SFTP drop ---------------------------------


def upload_once(port: int, folder: Path) -> int:
    """Push ``folder``'s CSV files to the drop on ``port`` as user "bench" (the password on
    stdin), as a school system does from its own machine."""
    import asyncio

    import asyncssh

    password = sys.stdin.readline().strip()

    async def upload() -> None:
        async with (
            asyncssh.connect(
                "127.0.0.1",
                port,
                username="bench",
                password=password,
                known_hosts=None,
                agent_path=None,
            ) as conn,
            conn.start_sftp_client() as sftp,
        ):
            for path in sorted(folder.glob("*.csv")):
                await sftp.put(str(path), path.name)

    asyncio.run(upload())
    return 0


def csv_once(folder: Path) -> int:
    """Push ``folder`` to our SFTP drop (a CSV district) and process it; print figures as JSON."""
    import socket

    os.environ.setdefault("CSV_FILES_ROOT", str(ROOT / "var" / "bench" / "csv-files"))
    os.environ.setdefault("SFTP_ROOT", str(ROOT / "var" / "bench" / "sftp"))
    os.environ["CSV_QUIET_SECONDS"] = "3600"  # processed on demand below, timed on its own
    _setup()
    from rostering import csvservices, services

    added = csvservices.csv_district_add(key="bench", name="Bench CSV", new_password=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The drop and the school system's client each in a process of their own, as in production
    # (``sftp_serve`` is its own service): the peak RSS printed is the sync's, like the API's.
    drop = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "sftp_serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if drop.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the SFTP drop did not start") from None
                time.sleep(0.1)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "_upload", str(port), str(folder)],
            input=f"{added.password}\n",
            text=True,
            check=True,
        )
        upload_s = time.perf_counter() - started
    finally:
        drop.terminate()
        drop.wait()
    started = time.perf_counter()
    run = services.district_sync(district=added.csv.district)
    wall = time.perf_counter() - started
    counts = {k: v for k, v in run.counts.items() if k != "errors"}
    taken = sum(
        c.get("created", 0) + c.get("updated", 0) + c.get("unchanged", 0) for c in counts.values()
    )
    print(
        json.dumps(
            {
                "status": run.status,
                "error": run.error,
                "wall": wall,
                "upload": upload_s,
                "taken": taken,
                "rss_mb": _peak_rss_mb(),
            }
        ),
        flush=True,
    )
    return 0 if run.status == "succeeded" else 1


# --- child: the per-row update_or_create loop ---------------------------------------------------


def loop_once(base_url: str, fraction: float) -> int:
    """Load the district with a plain per-row update_or_create loop (users and sections on a
    subset); print measured and extrapolated times as JSON."""
    _setup()
    from django.conf import settings

    settings.CLEVER_OAUTH_BASE_URL = settings.CLEVER_API_BASE_URL = base_url
    from accounts.models import User
    from clever import data_api, endpoints, records
    from rostering import connections
    from rostering.models import (
        ContactRelationship,
        Course,
        District,
        School,
        Section,
        SectionStudent,
        SectionTeacher,
        Term,
        UserRole,
        UserSchool,
    )

    connections.district_connections_refresh()
    district = District.objects.get()
    client = data_api.DataApiClient(district.token)

    def each(path: str, limit: int | None = None) -> Any:
        n = 0
        for page in client.pages(path):
            for raw in page.items:
                if limit is not None and n >= limit:
                    return
                n += 1
                yield raw

    def by_cid(model: Any, cid: str) -> Any:
        return model.objects.filter(clever_id=cid).first() if cid else None

    totals = {}
    for path in (endpoints.USERS, endpoints.SECTIONS):
        # How many records there are (for the extrapolation), read from the look-alike.
        totals[path] = sum(len(page.items) for page in client.pages(path))
    timings: dict[str, tuple[float, int, int]] = {}

    started = time.perf_counter()
    n = 0
    for raw in each(endpoints.SCHOOLS):
        r = records.parse_school(raw)
        School.objects.update_or_create(
            clever_id=r.id, defaults={"district": district, "name": r.name, "sis_id": r.sis_id}
        )
        n += 1
    for raw in each(endpoints.TERMS):
        r = records.parse_term(raw)
        Term.objects.update_or_create(
            clever_id=r.id,
            defaults={"district": district, "name": r.name, "start_date": r.start_date},
        )
        n += 1
    for raw in each(endpoints.COURSES):
        r = records.parse_course(raw)
        Course.objects.update_or_create(
            clever_id=r.id, defaults={"district": district, "name": r.name, "number": r.number}
        )
        n += 1
    timings["small"] = (time.perf_counter() - started, n, n)

    subset = max(1, int(totals[endpoints.USERS] * fraction))
    started = time.perf_counter()
    for raw in each(endpoints.USERS, subset):
        u = records.parse_user(raw)
        user, _ = User.objects.update_or_create(
            clever_id=u.id,
            defaults={
                "district": district,
                "username": u.id,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "email": u.email,
                "source": "clever",
            },
        )
        for role in u.roles:
            UserRole.objects.update_or_create(
                user=user,
                role=role.role,
                defaults={"sis_id": role.sis_id, "school": by_cid(School, role.school)},
            )
            for school in role.schools:
                UserSchool.objects.update_or_create(
                    user=user, school=by_cid(School, school), role=role.role
                )
            for rel in role.relationships:
                student = by_cid(User, rel.student)
                if student is not None:
                    ContactRelationship.objects.update_or_create(
                        contact=user, student=student, defaults={"type": rel.type}
                    )
    timings["users"] = (time.perf_counter() - started, subset, totals[endpoints.USERS])

    subset = max(1, int(totals[endpoints.SECTIONS] * fraction))
    started = time.perf_counter()
    for raw in each(endpoints.SECTIONS, subset):
        s = records.parse_section(raw)
        section, _ = Section.objects.update_or_create(
            clever_id=s.id,
            defaults={
                "district": district,
                "name": s.name,
                "school": by_cid(School, s.school),
                "course": by_cid(Course, s.course),
                "term": by_cid(Term, s.term),
            },
        )
        for position, cid in enumerate(s.teachers):
            teacher = by_cid(User, cid)
            if teacher is not None:
                SectionTeacher.objects.update_or_create(
                    section=section, user=teacher, defaults={"position": position}
                )
        for cid in s.students:
            student = by_cid(User, cid)
            if student is not None:
                SectionStudent.objects.update_or_create(section=section, user=student)
    timings["sections"] = (time.perf_counter() - started, subset, totals[endpoints.SECTIONS])
    client.close()

    estimate = sum(seconds * total / done for seconds, done, total in timings.values())
    print(
        json.dumps(
            {
                "estimate": estimate,
                "measured": sum(t[0] for t in timings.values()),
                "fraction": fraction,
                "timings": timings,
                "rss_mb": _peak_rss_mb(),
            }
        ),
        flush=True,
    )
    return 0


# --- parent: orchestrate ------------------------------------------------------------------------


def _bench_database_url(database_url: str) -> tuple[str, str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "postgres"
    bench = f"{name}_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    return urlunsplit(parts._replace(path=f"/{bench}")), admin, bench


@contextmanager
def _pg(url: str) -> Iterator[Any]:
    """An autocommit psycopg2 cursor on ``url`` (DROP/CREATE DATABASE need one), then closed."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def _writes(url: str) -> int:
    """Rows inserted, updated or deleted in the roster tables so far (PostgreSQL's counters)."""
    time.sleep(1.0)  # the sync process has exited; its counters are flushed
    with _pg(url) as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
            "WHERE schemaname = 'public' AND relname = ANY(%s)",
            [list(ROSTER_TABLES)],
        )
        return int(cur.fetchone()[0])


def _empty_roster(url: str) -> None:
    with _pg(url) as cur:
        cur.execute(
            "TRUNCATE rostering_syncerror, rostering_syncrun, rostering_district, "
            + ", ".join(ROSTER_TABLES)
            + " CASCADE"
        )
        cur.execute("VACUUM ANALYZE")


def _child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench step {args[0]} failed (exit {proc.returncode})")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    """Generate, serve and sync each size; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 students")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated student counts")
    parser.add_argument(
        "--loop-fraction",
        type=float,
        default=0.05,
        help="share of users and sections the update_or_create loop is timed on (default 0.05)",
    )
    args = parser.parse_args(argv)

    _setup()
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        print(
            "make bench needs PostgreSQL (the sync's production path): set "
            "DATABASE_URL=postgres://USER@HOST:PORT/NAME. It uses NAME_bench, never NAME.",
            file=sys.stderr,
        )
        return 2
    from bench.gen_district import generate

    database_url = os.environ["DATABASE_URL"]
    bench_url, admin_url, bench_name = _bench_database_url(database_url)
    with _pg(admin_url) as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
        cur.execute(f'CREATE DATABASE "{bench_name}"')
    env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "1", "CELERY_BROKER_URL": ""}
    env.pop("CLEVER_OAUTH_BASE_URL", None)
    env.pop("CLEVER_API_BASE_URL", None)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, check=True
    )
    print(f"Database: {bench_name} (created afresh); {os.cpu_count()} CPUs")

    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.million:
        sizes.append(1_000_000)
    rows = []
    for students in sizes:
        folder = ROOT / "var" / "bench" / f"district-{students}"
        if not (folder / "schools.csv").is_file():
            generate(students, folder)
        server = subprocess.Popen(
            [sys.executable, __file__, "_serve", str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = server.stdout.readline() if server.stdout else ""
            if not line.startswith("READY "):
                raise SystemExit(f"the look-alike did not start for {students} students")
            base_url, load_s = line.split()[1], line.split()[2]
            print(f"\n{students:,} students: look-alike loaded in {load_s}s at {base_url}")
            _empty_roster(bench_url)
            before = _writes(bench_url)
            full = _child(["_sync", base_url], env)
            after_full = _writes(bench_url)
            again = _child(["_sync", base_url], env)
            after_again = _writes(bench_url)
            for label, result, written in (
                ("full sync", full, after_full - before),
                ("no-change re-sync", again, after_again - after_full),
            ):
                rate = result["taken"] / result["wall"] if result["wall"] else 0
                print(
                    f"  {label:<18} {result['wall']:8.1f} s  {result['taken']:>10,} rows "
                    f"{rate:>10,.0f} rows/s  peak RSS {result['rss_mb']:6.0f} MB  "
                    f"rows written {written:,}"
                )
                rows.append((students, label, result["wall"], rate, result["rss_mb"], written))
            _empty_roster(bench_url)
            shutil.rmtree(ROOT / "var" / "bench" / "csv-files", ignore_errors=True)
            before = _writes(bench_url)
            csv_run = _child(["_csv", str(folder)], env)
            written = _writes(bench_url) - before
            rate = csv_run["taken"] / csv_run["wall"] if csv_run["wall"] else 0
            label = "CSV via SFTP drop"
            print(
                f"  {label:<18} {csv_run['wall']:8.1f} s  {csv_run['taken']:>10,} rows "
                f"{rate:>10,.0f} rows/s  peak RSS {csv_run['rss_mb']:6.0f} MB  "
                f"rows written {written:,}  (upload {csv_run['upload']:.1f} s)"
            )
            rows.append((students, label, csv_run["wall"], rate, csv_run["rss_mb"], written))
            if students == 100_000:
                _empty_roster(bench_url)
                loop = _child(["_loop", base_url, str(args.loop_fraction)], env)
                ratio = loop["estimate"] / full["wall"] if full["wall"] else 0
                print(
                    f"  per-row update_or_create loop: {loop['estimate']:.0f} s estimated "
                    f"(timed {loop['measured']:.1f} s on {loop['fraction']:.0%} of users and "
                    f"sections plus all schools/terms/courses, extrapolated linearly); "
                    f"the sync is {ratio:.0f}x faster"
                )
        finally:
            server.kill()
            server.wait()
    print("\nSummary (students, run, seconds, rows/s, peak RSS MB, rows written):")
    for students, label, wall, rate, rss, written in rows:
        print(f"  {students:>9,}  {label:<18} {wall:8.1f}  {rate:>10,.0f}  {rss:6.0f}  {written:,}")
    with _pg(admin_url) as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        sys.exit(serve(Path(sys.argv[2])))
    if len(sys.argv) > 1 and sys.argv[1] == "_sync":
        sys.exit(sync_once(sys.argv[2]))
    if len(sys.argv) > 1 and sys.argv[1] == "_upload":
        sys.exit(upload_once(int(sys.argv[2]), Path(sys.argv[3])))
    if len(sys.argv) > 1 and sys.argv[1] == "_csv":
        sys.exit(csv_once(Path(sys.argv[2])))
    if len(sys.argv) > 1 and sys.argv[1] == "_loop":
        sys.exit(loop_once(sys.argv[2], float(sys.argv[3])))
    sys.exit(main())
