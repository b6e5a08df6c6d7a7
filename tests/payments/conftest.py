"""Payment fixtures: the test processor connected to the test's database, and a way to swap in
a processor with latency or failures for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from sqlalchemy import select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.money import Money
from retailos.core.outbox import OutboxEvent
from retailos.payments import service
from retailos.payments.models import Payment
from retailos.payments.providers import (
    TestProvider,
    register_provider,
    registered_provider,
    unregister_provider,
)

APPROVE = "4242424242424242"
PENDING = "4000000000003220"


@pytest.fixture
def processor(db: Database) -> TestProvider:
    """The registered test processor, looking at this test's database."""
    return cast(TestProvider, registered_provider("test")).connected(db.engine)


@pytest.fixture
def use_processor(db: Database) -> Iterator[Callable[..., TestProvider]]:
    """Register a test processor built with the given faults for the rest of the test."""
    previous = registered_provider("test")

    def use(**kw: Any) -> TestProvider:
        provider = TestProvider(**kw)
        register_provider(provider)
        return provider.connected(db.engine)

    yield use
    unregister_provider("test")
    register_provider(previous)


@pytest.fixture
def authorized(db: Database, clock: ManualClock) -> Callable[..., Payment]:
    """Authorise (and commit) a payment for a tenant."""

    def make(tenant_id: str = "ten_a", amount: int = 10_00, card: str = APPROVE,
             key: str | None = None, ref: str = "grp_1") -> Payment:
        with db.transaction() as s:
            return service.authorize(s, clock, tenant_id, ref, Money(amount, "USD"), card,
                                     key or f"auth-{tenant_id}-{ref}-{amount}-{card}")

    return make


def outbox_types(db: Database, tenant_id: str) -> list[str]:
    """The types of the tenant's outbox events, sorted (ids made in one millisecond tie)."""
    with db.transaction() as s:
        stmt = (select(OutboxEvent.type).where(OutboxEvent.tenant_id == tenant_id)
                .order_by(OutboxEvent.id))
        return sorted(s.scalars(stmt))
