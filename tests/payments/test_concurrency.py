"""Concurrent callers: one key is one charge, and refunds never add up to more than captured."""

from __future__ import annotations

import threading
from collections.abc import Callable

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import PaymentAmountExceeded
from retailos.core.money import Money
from retailos.payments import service
from retailos.payments.models import Payment
from retailos.payments.providers import TestProvider
from tests.payments.conftest import APPROVE, PENDING, outbox_types

TENANT = "ten_a"
THREADS = 8


def run_together(work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in THREADS threads released at once; results or raised exceptions."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as e:  # collected and asserted on by the test
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_one_key_authorised_at_once_is_one_payment_and_one_charge(
    db: Database, clock: ManualClock, processor: TestProvider
) -> None:
    def authorise(_: int) -> str:
        with db.transaction() as s:
            return service.authorize(s, clock, TENANT, "g", Money(10_00, "USD"), APPROVE,
                                     "same-key").id

    ids = run_together(authorise)
    assert all(isinstance(i, str) for i in ids), ids
    assert len(set(ids)) == 1
    assert processor.charge_count() == 1
    with db.transaction() as s:
        assert len(service.list_payments(s, TENANT)[0]) == 1


def test_racing_refunds_never_exceed_the_capture(
    db: Database, clock: ManualClock, processor: TestProvider,
    authorized: Callable[..., Payment],
) -> None:
    payment = authorized(tenant_id=TENANT)
    with db.transaction() as s:
        service.capture(s, clock, TENANT, payment.id)

    def refund(i: int) -> int:
        with db.transaction() as s:
            return service.refund(s, clock, TENANT, payment.id, Money(3_00, "USD"), "race",
                                  f"r{i}").amount

    results = run_together(refund)
    refunded = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, PaymentAmountExceeded)]
    assert (len(refunded), len(refused)) == (3, THREADS - 3)  # 3 x 3.00 of the 10.00
    with db.transaction() as s:
        assert service.get_payment(s, TENANT, payment.id).refunded_amount == 9_00
    charge = processor.charge(payment.provider_ref)
    assert charge is not None and charge.refunded_amount == 9_00


def test_one_event_delivered_at_once_is_applied_once(
    db: Database, clock: ManualClock, processor: TestProvider,
    authorized: Callable[..., Payment],
) -> None:
    payment = authorized(tenant_id=TENANT, card=PENDING)
    event = processor.confirm(payment.provider_ref)

    def deliver(_: int) -> bool:
        with db.transaction() as s:
            return service.handle_provider_event(s, clock, event) is not None

    applied = run_together(deliver)
    assert sorted(applied, key=str) == [False] * (THREADS - 1) + [True]
    assert outbox_types(db, TENANT) == ["payment.authorized"]
