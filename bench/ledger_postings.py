"""Benchmark: concurrent marketplace sales posted to the ledger, then `check()` over all of it.

Each thread has its own session and posts sales (one entry, eight accounts: four of the store,
four of the operator, whose rows every sale shares) one transaction each. Prints sales per
second, the mean and 99th-percentile posting transaction, and how long `check()` takes.

    .venv/bin/python bench/ledger_postings.py [--backend sqlite|postgres] [--threads 8]
        [--sales 2000] [--stores 50]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.migrate import upgrade
from retailos.core.money import Money
from retailos.core.pgcluster import Cluster
from retailos.ledger import postings, service

OPERATOR = "ten_operator"


def run(url: str, threads: int, sales: int, stores: int) -> None:
    db = Database(url)
    upgrade(db)
    clock = SystemClock()
    per_thread = sales // threads
    timings: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        mine: list[float] = []
        for i in range(per_thread):
            gross = 1000 + (n * per_thread + i) % 5000
            start = time.perf_counter()
            with db.transaction() as s:
                postings.sale(
                    s, clock, store_tenant_id=f"ten_store_{(n + i) % stores}",
                    operator_tenant_id=OPERATOR, ref=f"ord_{n}_{i}",
                    gross=Money(gross, "USD"), tax=Money(gross // 11, "USD"),
                    fees=Money(gross // 12, "USD"),
                    fee_lines={"referral": Money(gross // 12 - 10, "USD"),
                               "order": Money(10, "USD")},
                )
            mine.append(time.perf_counter() - start)
        with lock:
            timings.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    timings.sort()
    posted = len(timings)
    start = time.perf_counter()
    with db.transaction() as s:
        problems = service.check(s)
    checked = time.perf_counter() - start
    print(f"{db.engine.dialect.name}: {posted} sales by {threads} threads over {stores} stores "
          f"in {elapsed:.2f} s = {posted / elapsed:.0f} sales/s; transaction mean "
          f"{statistics.mean(timings) * 1000:.1f} ms, p99 "
          f"{timings[int(0.99 * (posted - 1))] * 1000:.1f} ms")
    print(f"check(): {len(problems)} problems over {posted} entries, {posted * 8} lines "
          f"in {checked * 1000:.0f} ms")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sales", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=50)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    if args.backend == "postgres":
        with Cluster() as cluster:
            run(cluster.url(), args.threads, args.sales, args.stores)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.threads, args.sales, args.stores)


if __name__ == "__main__":
    main()
