"""Checkouts racing each other: for the last units, and under one Idempotency-Key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import OutOfStock
from retailos.ledger import service as ledger
from retailos.orders import checkout
from retailos.payments.providers import TestProvider
from tests.conftest import Actor
from tests.orders.conftest import APPROVE, Store, available, charges, counts, stock_store


def _request(store: Store, key: str | None, quantity: int = 1) -> checkout.CheckoutRequest:
    return checkout.CheckoutRequest(
        currency="USD", lines=[(store.skus[0], quantity)], card_number=APPROVE,
        customer=checkout.Customer("racer@example.com"), idempotency_key=key)


def _run(db: Database, clock: ManualClock, store: Store, key: str | None) -> str:
    try:
        with db.transaction() as s:
            return checkout.checkout(s, clock, store.tenant_id, _request(store, key)).group.id
    except OutOfStock:
        return "out-of-stock"


def test_twenty_buyers_race_for_five_units_and_exactly_five_win(
    db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    processor: TestProvider,
) -> None:
    store = stock_store(db, clock, retailer, products=1, units=5)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda i: _run(db, clock, store, f"race-{i}"), range(20)))

    assert results.count("out-of-stock") == 15
    assert len(set(results) - {"out-of-stock"}) == 5
    assert available(db, store) == {store.skus[0]: 0}
    assert [c[0] for c in charges(processor)] == ["captured"] * 5
    with db.transaction() as s:
        assert ledger.check(s) == []


def test_concurrent_replays_of_one_key_make_one_group_and_one_charge(
    db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    processor: TestProvider,
) -> None:
    store = stock_store(db, clock, retailer, products=1, units=5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: _run(db, clock, store, "same-key"), range(8)))

    assert len(set(results)) == 1
    assert counts(db, store.tenant_id)["groups"] == 1
    assert [c[0] for c in charges(processor)] == ["captured"]
    assert available(db, store) == {store.skus[0]: 4}
