"""Benchmark: payment lifecycles (authorise, capture, refund half) through the payment service
and the test processor, each step its own transaction as a checkout and a return would be.

Prints lifecycles per second and per-step latency (p50, p99) for one worker and for several
concurrent workers, on SQLite (default) or a throwaway PostgreSQL cluster (--postgres).
Add --latency to give the processor a network-like delay per request.

    .venv/bin/python bench/payments.py [--cycles N] [--workers W] [--postgres] [--latency S]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.migrate import upgrade
from retailos.core.money import Money
from retailos.payments import service
from retailos.payments.providers import TestProvider, register_provider


@contextmanager
def database(postgres: bool) -> Iterator[Database]:
    if postgres:
        from retailos.core.pgcluster import Cluster

        with Cluster() as cluster:
            db = Database(cluster.url())
            upgrade(db)
            yield db
            db.dispose()
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        upgrade(db)
        yield db
        db.dispose()


def lifecycle(db: Database, tenant: str, i: int, timings: dict[str, list[float]]) -> None:
    clock = SystemClock()
    steps = []
    start = time.perf_counter()
    with db.transaction() as s:
        payment = service.authorize(s, clock, tenant, f"grp_{i}", Money(25_00, "USD"),
                                    "4242424242424242", f"auth-{i}")
    steps.append(("authorize", time.perf_counter()))
    with db.transaction() as s:
        service.capture(s, clock, tenant, payment.id)
    steps.append(("capture", time.perf_counter()))
    with db.transaction() as s:
        service.refund(s, clock, tenant, payment.id, Money(12_50, "USD"), "return", f"rf-{i}")
    steps.append(("refund", time.perf_counter()))
    last = start
    for name, at in steps:
        timings[name].append(at - last)
        last = at


def run(db: Database, cycles: int, workers: int, label: str) -> None:
    timings: dict[str, list[float]] = defaultdict(list)
    per_worker = cycles // workers

    def work(w: int) -> None:
        for i in range(per_worker):
            lifecycle(db, f"ten_{label}_{w}", i, timings)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    done = per_worker * workers
    print(f"{label}: {done} lifecycles with {workers} worker(s) in {elapsed:.2f} s "
          f"= {done / elapsed:.0f} lifecycles/s")
    for name in ("authorize", "capture", "refund"):
        ms = sorted(x * 1000 for x in timings[name])
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(f"  {name:9s} p50 {statistics.median(ms):6.2f} ms   p99 {p99:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=400)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--latency", type=float, default=0.0, help="processor delay, seconds")
    args = parser.parse_args()
    register_provider(TestProvider(latency_seconds=args.latency))
    with database(args.postgres) as db:
        print(f"backend: {db.engine.dialect.name}; processor latency {args.latency * 1000:.0f} ms")
        run(db, args.cycles, 1, "serial")
        run(db, args.cycles, args.workers, "concurrent")


if __name__ == "__main__":
    main()
