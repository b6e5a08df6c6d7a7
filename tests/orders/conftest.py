"""Orders fixtures: a store with a priced catalogue and stock, a platform operator that charges
it fees, the test payment processor, and helpers that read what a checkout left behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from retailos.catalog import service as catalog
from retailos.catalog.service import VariantDraft
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.inventory import service as inventory
from retailos.inventory.models import Hold
from retailos.ledger.models import JournalEntry
from retailos.orders.models import Order, OrderGroup
from retailos.payments.providers import TestProvider, TestProviderCharge, registered_provider
from tests.conftest import Actor

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
PENDING = "4000000000003220"


@dataclass
class Store:
    actor: Actor
    location_id: str
    skus: list[str]  # variant ids, priced 100, 200, 300 ... cents
    prices: dict[str, int]

    @property
    def tenant_id(self) -> str:
        return self.actor.tenant_id

    @property
    def headers(self) -> dict[str, str]:
        return self.actor.headers


def stock_store(db: Database, clock: ManualClock, actor: Actor, products: int = 25,
                units: int = 10) -> Store:
    with db.transaction() as s:
        skus, prices = [], {}
        for i in range(products):
            product = catalog.create_product(
                s, clock, actor.tenant_id, title=f"Product {i}",
                variants=[VariantDraft(sku=f"SKU{i:04d}", prices={"USD": 100 * (i + 1)})],
            )
            skus.append(product.variants[0].id)
            prices[product.variants[0].id] = 100 * (i + 1)
        location = inventory.create_location(s, clock, actor.tenant_id, "WH", "Warehouse",
                                             "warehouse")
        if units:
            inventory.receive_many(s, clock, actor.tenant_id, location.id,
                                   dict.fromkeys(skus, units))
        return Store(actor, location.id, skus, prices)


@pytest.fixture
def operator(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("operator", "Platform")


@pytest.fixture
def store(db: Database, clock: ManualClock, operator: Actor,
          make_actor: Callable[..., Actor]) -> Store:
    return stock_store(db, clock, make_actor("retailer", "Corner Grocer"))


@pytest.fixture
def processor(db: Database) -> TestProvider:
    return cast(TestProvider, registered_provider("test")).connected(db.engine)


def charges(processor: TestProvider) -> list[tuple[str, int, int, int]]:
    """(status, amount, captured, refunded) of every charge the processor holds."""
    with processor._transaction() as conn:
        rows = conn.execute(select(
            TestProviderCharge.status, TestProviderCharge.amount,
            TestProviderCharge.captured_amount, TestProviderCharge.refunded_amount,
        ).order_by(TestProviderCharge.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def counts(db: Database, tenant_id: str) -> dict[str, int]:
    """Rows a checkout of `tenant_id` leaves: groups, orders, holds still holding stock (a
    released hold stays behind on PostgreSQL, where it committed on its own), journal entries."""
    with db.transaction() as s:
        return {
            "groups": s.scalar(select(func.count()).select_from(OrderGroup)
                               .where(OrderGroup.tenant_id == tenant_id)) or 0,
            "orders": s.scalar(select(func.count()).select_from(Order)
                               .where(Order.tenant_id == tenant_id)) or 0,
            "holds": s.scalar(select(func.count()).select_from(Hold)
                              .where(Hold.tenant_id == tenant_id,
                                     Hold.status.in_(["active", "allocated"]))) or 0,
            "entries": s.scalar(select(func.count()).select_from(JournalEntry)) or 0,
        }


def available(db: Database, store: Store, skus: list[str] | None = None) -> dict[str, int]:
    with db.transaction() as s:
        return inventory.available_to_promise(s, store.tenant_id, skus or store.skus)


def basket(store: Store, *quantities: int, card: str = APPROVE,
           email: str = "ann@example.com") -> dict[str, Any]:
    return {
        "currency": "USD",
        "lines": [{"sku_id": store.skus[i], "quantity": q} for i, q in enumerate(quantities)],
        "payment": {"card_number": card}, "customer": {"email": email},
    }


def place(client: TestClient, store: Store, *quantities: int, card: str = APPROVE,
          key: str | None = None) -> Any:
    headers = {**store.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/v1/checkouts", json=basket(store, *quantities, card=card),
                       headers=headers)
