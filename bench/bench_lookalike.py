"""Measure the look-alike on a synthetic district: load time, memory, 10,000-record page times.

    DEBUG=1 python bench/bench_lookalike.py --students 100000 [--dir var/bench/district-100k]

Generates the district (bench/gen_district.py) unless ``--dir`` already holds one, loads it with
``world.load_district``, serves the project from a thread and pages ``/v3.0/users`` and
``/v3.0/sections`` with ``limit=10000`` over real HTTP, printing the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Generate (if needed), load, serve and page a district; print the timings."""
    import django

    django.setup()
    import requests

    from bench.gen_district import generate
    from cleverlike.server import start_server
    from cleverlike.world import world

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    folder = args.dir or ROOT / "var" / "bench" / f"district-{args.students}"
    if not (folder / "schools.csv").is_file():
        started = time.perf_counter()
        generate(args.students, folder)
        print(f"generated {folder} in {time.perf_counter() - started:.1f}s")

    before = _rss_mb()
    started = time.perf_counter()
    d = world.load_district(folder)
    load_s = time.perf_counter() - started
    print(
        f"load_district: {load_s:.1f}s for {len(d.order['users'])} users, "
        f"{len(d.order['sections'])} sections; peak RSS {before:.0f} -> {_rss_mb():.0f} MB"
    )

    httpd, _ = start_server("127.0.0.1", 0)
    base = f"http://127.0.0.1:{httpd.server_address[1]}/clever"
    world.rate_limit_per_minute = 10**9
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {d.token}"
    for path in ("/v3.0/users", "/v3.0/sections"):
        times, records, uri = [], 0, f"{path}?limit=10000"
        total_started = time.perf_counter()
        while uri:
            started = time.perf_counter()
            response = session.get(base + uri, timeout=120)
            raw = response.content  # timed: request to last byte; JSON parsing is not
            times.append(time.perf_counter() - started)
            body = json.loads(raw)
            records += len(body["data"])
            nxt = [link["uri"] for link in body["links"] if link["rel"] == "next"]
            uri = nxt[0] if nxt else None
        print(
            f"GET {path} limit=10000: {len(times)} pages, {records} records in "
            f"{time.perf_counter() - total_started:.1f}s; per page median "
            f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
            f"(request to last byte; {len(raw) // 1024} KB last page)"
        )
    httpd.shutdown()
    print(f"peak RSS {_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
