from __future__ import annotations
import os, importlib.util, sys, tracemalloc, time
from bench.gen_district import generate
from rostering.csvsource import CsvSource as New


def _old():
    spec = importlib.util.spec_from_file_location("csvsource_old", "/tmp/csvmem/csvsource_old.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["csvsource_old"] = mod
    spec.loader.exec_module(mod)
    return mod.CsvSource


def _peak(cls, district, folder):
    files = {p.name: (lambda p=p: open(p, "rb")) for p in folder.glob("*.csv")}
    src = cls(district=district, files=files, log=[])
    tracemalloc.start()
    t = time.perf_counter()
    for name in ("schools", "terms", "courses", "users", "sections"):
        for batch in src.batches(name):
            del batch
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if hasattr(src, "close"):
        src.close()
    return peak, time.perf_counter() - t


def test_probe(district, tmp_path):
    for n in (5000, 25000):
        generate(n, tmp_path / str(n))
    for cls in (_old(), New):
        print(
            cls.__module__,
            [
                (round(p / 1e6, 1), round(t, 1))
                for p, t in (_peak(cls, district, tmp_path / str(n)) for n in (5000, 25000))
            ],
        )
