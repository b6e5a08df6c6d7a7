"""Benchmark: bulk receiving, reservations and audit, on SQLite or a throwaway PostgreSQL.

Imports the Complete Journey catalogue (92,331 products, one variant each; `--skus` imports
fewer), then prints wall and CPU seconds for `receive_many` of every variant, then again onto
existing rows; milliseconds per 5-line `reserve` and its SQL
statement count; reservations per second with threads racing for one hot SKU (and a check that
exactly the stock on hand was taken); and the time `audit` needs over every row.

    .venv/bin/python bench/inventory.py [--backend sqlite|postgres] [--skus 92331]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import event

from retailos.catalog.completejourney import import_catalogue
from retailos.catalog.service import list_saleable_variant_ids
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import OutOfStock
from retailos.core.migrate import upgrade
from retailos.core.pgcluster import Cluster
from retailos.inventory import service as inventory
from retailos.tenants import service as tenants


@contextmanager
def timed(label: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    print(f"{label:<44} {time.perf_counter() - wall:8.2f} s wall {time.process_time() - cpu:8.2f}"
          " s CPU (this process)")


def count_statements(db: Database, work: Callable[[], Any]) -> int:
    seen: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return len(seen)


def run(url: str, n_skus: int | None) -> None:
    db = Database(url)
    upgrade(db)
    clock = ManualClock()
    print(f"backend: {db.engine.dialect.name}")
    with db.transaction() as s:
        tenant = tenants.create_tenant(s, clock, "retailer", "Bench").id
        warehouse = inventory.create_location(s, clock, tenant, "WH", "Warehouse", "warehouse").id
        store = inventory.create_location(s, clock, tenant, "ST", "Store", "store").id
    started = time.perf_counter()
    import_catalogue(db, clock, tenant, limit=n_skus)
    with db.transaction() as s:
        skus = list_saleable_variant_ids(s, tenant, "USD")
    n_skus = len(skus)
    print(f"{'catalogue import (setup, not measured here)':<44} "
          f"{time.perf_counter() - started:8.2f} s for {n_skus:,} variants")
    with timed(f"receive_many {n_skus:,} new rows"), db.transaction() as s:
        inventory.receive_many(s, clock, tenant, warehouse, dict.fromkeys(skus, 20))
    with timed(f"receive_many {n_skus:,} onto existing rows"), db.transaction() as s:
        inventory.receive_many(s, clock, tenant, warehouse, dict.fromkeys(skus, 5))
    with db.transaction() as s:
        inventory.receive_many(s, clock, tenant, store, dict.fromkeys(skus[:1000], 3))

    ttl = timedelta(minutes=15)
    rounds = 200
    start = time.perf_counter()
    for i in range(rounds):
        lines = [(skus[(i * 5 + k) % 1000], 2) for k in range(5)]
        with db.transaction() as s:
            inventory.reserve(s, clock, tenant, lines, f"chk_{i}", ttl)
    per = (time.perf_counter() - start) / rounds * 1000
    print(f"{'reserve, 5 lines, one transaction each':<44} {per:8.2f} ms per reservation")
    for n in (1, 20):
        with db.transaction() as s:
            lines = [(skus[2000 + k], 1) for k in range(n)]
            used = count_statements(
                db, partial(inventory.reserve, s, clock, tenant, lines, "c", ttl))
        print(f"{f'reserve, {n} line(s): SQL statements':<44} {used:8d}")

    hot = skus[-1]  # 25 units on hand, untouched so far
    threads, attempts = 16, 10
    won = []
    lock = threading.Lock()

    def buyer(t: int) -> None:
        for a in range(attempts):
            try:
                with db.transaction() as s:
                    inventory.reserve(s, clock, tenant, [(hot, 1)], f"hot_{t}_{a}", ttl)
                with lock:
                    won.append(1)
            except OutOfStock:
                pass

    start = time.perf_counter()
    workers = [threading.Thread(target=buyer, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    print(f"{f'{threads} threads x {attempts} reserves of one hot SKU':<44} "
          f"{threads * attempts / elapsed:8.0f} attempts/s; {len(won)} won of 25 on hand")
    assert len(won) == 25
    with timed(f"audit over {n_skus + 1000:,} stock rows"), db.transaction() as s:
        found = inventory.audit(s)
    assert found == [], found[:3]
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--skus", type=int, default=None, help="at least 2,100")
    args = parser.parse_args()
    if args.backend == "postgres":
        with Cluster() as cluster:
            run(cluster.url(), args.skus)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", args.skus)


if __name__ == "__main__":
    main()
