"""Real threads, each in its own transaction: on SQLite they queue on BEGIN IMMEDIATE, on
PostgreSQL they race for the row locks."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import OutOfStock
from retailos.inventory import service as inventory
from retailos.inventory.models import Hold, Stock
from tests.inventory.conftest import Shop

TTL = timedelta(minutes=15)


def threaded_database(url: str) -> Database:
    """A connection per thread, and patience: on a busy machine SQLite's queue of writers can
    take longer than the pool's default 30 s wait for a connection."""
    return Database(url, pool_size=45, max_overflow=0, pool_timeout=300)


def race(db: Database, workers: int, work: Callable[[int], None]) -> Counter[str]:
    """Run `work(i)` in `workers` threads released at once; count how each ended."""
    start = threading.Barrier(workers)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
            outcome = "ok"
        except OutOfStock:
            outcome = "out of stock"
        except Exception as e:  # anything else (deadlock, constraint) fails the test below
            outcome = f"{type(e).__name__}: {e}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def test_forty_buyers_of_fifty_units_two_each_exactly_twenty_five_win(
    database_url: str, clock: ManualClock, shop: Shop
) -> None:
    db = threaded_database(database_url)
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 30)
        inventory.receive(s, clock, shop.tenant_id, shop.store, item, 20)

    def buy(i: int) -> None:
        with db.transaction() as s:
            inventory.reserve(s, clock, shop.tenant_id, [(item, 2)], f"chk_{i}", TTL)

    outcomes = race(db, 40, buy)
    assert outcomes == {"ok": 25, "out of stock": 15}
    with db.transaction() as s:
        rows = s.execute(select(Stock.on_hand, Stock.reserved, Stock.allocated)
                         .where(Stock.sku_id == item)).all()
        assert sum(r.reserved for r in rows) == 50
        assert all(r.on_hand - r.reserved - r.allocated >= 0 for r in rows)
        assert s.scalar(select(func.count()).select_from(Hold)
                        .where(Hold.tenant_id == shop.tenant_id)) == 25
        assert inventory.audit(s) == []
    db.dispose()


def test_buyers_locking_skus_in_opposite_orders_do_not_deadlock(
    database_url: str, clock: ManualClock, shop: Shop
) -> None:
    db = threaded_database(database_url)
    a, b = shop.skus(2)
    with db.transaction() as s:
        for item in (a, b):
            inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 10)
            inventory.receive(s, clock, shop.tenant_id, shop.store, item, 10)

    allocated: list[int] = []

    def buy_then_settle(i: int) -> None:
        lines = [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)]
        with db.transaction() as s:
            hold = inventory.reserve(s, clock, shop.tenant_id, lines, f"chk_{i}", TTL)
        with db.transaction() as s:
            if i % 3:
                inventory.allocate(s, clock, shop.tenant_id, hold, {a: f"ord_{i}", b: f"ord_{i}"})
                allocated.append(i)
            else:
                inventory.release(s, clock, shop.tenant_id, hold)
        if i % 3 == 1:
            with db.transaction() as s:
                inventory.ship(s, clock, shop.tenant_id, f"ord_{i}")

    outcomes = race(db, 30, buy_then_settle)
    # Released holds give units back, so how many of the 30 win depends on timing; never fewer
    # than the 20 units there are, and nothing but success or a clean OutOfStock.
    assert set(outcomes) <= {"ok", "out of stock"}
    assert outcomes["ok"] >= 20
    with db.transaction() as s:
        assert inventory.audit(s) == []
        assert inventory.available_to_promise(s, shop.tenant_id, [a, b]) == {
            a: 20 - len(allocated), b: 20 - len(allocated)}
    db.dispose()


def test_transfers_in_opposite_directions_do_not_deadlock(
    database_url: str, clock: ManualClock, shop: Shop
) -> None:
    db = threaded_database(database_url)
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 20)
        inventory.receive(s, clock, shop.tenant_id, shop.store, item, 20)

    def move(i: int) -> None:
        there, here = (shop.warehouse, shop.store) if i % 2 else (shop.store, shop.warehouse)
        with db.transaction() as s:
            inventory.transfer(s, clock, shop.tenant_id, item, there, here, 1 + i % 3)

    outcomes = race(db, 24, move)
    assert outcomes == {"ok": 24}
    with db.transaction() as s:
        assert inventory.available_to_promise(s, shop.tenant_id, [item]) == {item: 40}
        assert inventory.audit(s) == []
    db.dispose()
