"""Charges of checkouts that never committed are given back by the periodic reconciliation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from retailos import handlers
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.money import Money
from retailos.ledger import service as ledger
from retailos.orders import checkout
from retailos.orders import service as orders
from retailos.payments.models import Payment
from retailos.payments.providers import (
    TestProvider,
    register_provider,
    registered_provider,
    unregister_provider,
)
from tests.conftest import Actor
from tests.orders.conftest import APPROVE, PENDING, Store, available, charges, place


@pytest.fixture
def processor(db: Database, clock: ManualClock) -> Iterator[TestProvider]:
    """A test processor on the test's clock, so that charges age with it."""
    previous = registered_provider("test")
    register_provider(TestProvider(clock=clock))
    yield TestProvider(clock=clock).connected(db.engine)
    unregister_provider("test")
    register_provider(previous)


def _lost_commit(db: Database, clock: ManualClock, store: Store, card: str, key: str) -> None:
    """A checkout that runs to the end, whose commit never happens (a crash, a lost database)."""
    with db.sessions() as s:
        checkout.checkout(s, clock, store.tenant_id, checkout.CheckoutRequest(
            currency="USD", lines=[(store.skus[0], 2)], card_number=card,
            customer=checkout.Customer("ann@example.com"), idempotency_key=key))
        s.rollback()


def test_charges_of_checkouts_that_never_committed_are_voided_or_refunded_once(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    processor: TestProvider, operator: Actor,
) -> None:
    before = available(db, store)
    kept = place(client, store, 1, key="committed")
    assert kept.status_code == 201
    _lost_commit(db, clock, store, APPROVE, "lost-captured")
    _lost_commit(db, clock, store, PENDING, "lost-pending")
    # another system sharing the provider account (a till) tags its own charges
    till = processor.authorize(Money(500, "USD"), APPROVE, "till-1", reference="pos:till:7")
    processor.capture(till.provider_ref, Money(500, "USD"), "till-1:capture")
    assert sorted(c[0] for c in charges(processor)) == [
        "captured", "captured", "captured", "requires_confirmation"]

    with db.transaction() as s:  # too young: its request might still be running
        assert orders.settle_abandoned_checkouts(s, clock) == 0
    clock.advance(minutes=16)
    with db.transaction() as s:
        for task in handlers.UPKEEP:
            task(s, clock)
    with db.transaction() as s:  # again: nothing more to do
        assert orders.settle_abandoned_checkouts(s, clock) == 0

    assert sorted(c[0] for c in charges(processor)) == [
        "captured", "captured", "refunded", "voided"]  # ours kept, the till's left alone
    assert available(db, store) == {**before, store.skus[0]: before[store.skus[0]] - 1}
    with db.transaction() as s:
        settled = {p.status: p for p in s.scalars(
            select(Payment).where(Payment.idempotency_key.like("orphan:%")))}
        assert sorted(settled) == ["refunded", "voided"]
        refunded = settled["refunded"]
        fee = processor.fee_for(Money(refunded.captured_amount, "USD"))
        assert (refunded.tenant_id, refunded.refunded_amount, refunded.processing_fee) == (
            store.tenant_id, refunded.captured_amount, fee)
        captured_fee = processor.fee_for(Money(kept.json()["total"], "USD"))
        books = ledger.balances(s, operator.tenant_id, "USD")
        assert books["payment_processing"] == Money(captured_fee + fee, "USD")
        assert ledger.check(s) == []
    listed = client.get("/v1/payments", headers=store.headers).json()["data"]
    assert sorted(p["status"] for p in listed) == ["captured", "refunded", "voided"]


def test_a_provider_that_does_not_answer_leaves_the_other_upkeep_done(
    db: Database, clock: ManualClock, store: Store, processor: TestProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retailos.payments.providers import ProviderUnavailable

    def down(*args: object) -> None:
        raise ProviderUnavailable("timed out")

    before = available(db, store)
    _lost_commit(db, clock, store, APPROVE, "lost")  # its hold outlives it on PostgreSQL
    monkeypatch.setattr(TestProvider, "charges", down)
    clock.advance(minutes=16)
    with pytest.raises(Exception, match="did not answer"), db.transaction() as s:
        handlers.reconcile(s, clock)
    with db.transaction() as s:
        handlers.upkeep(s, clock)
    assert available(db, store) == before  # the hold expired all the same
    assert [c[0] for c in charges(processor)] == ["captured"]  # given back on a later run
