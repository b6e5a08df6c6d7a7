"""A card that needs the cardholder's confirmation: the checkout places the orders unpaid; the
processor's signed event arrives later, and the worker (with the platform's handlers) captures
the payment, marks the orders paid and books the sale."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import httpx
from fastapi.testclient import TestClient

from retailos import handlers
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.payments.providers import TestProvider, registered_provider
from retailos.webhooks.worker import Worker
from tests.conftest import Actor
from tests.e2e.store import stock_a_store

PENDING_CARD = "4000000000003220"


def test_a_confirmed_payment_pays_its_orders_through_the_worker(
    client: TestClient, db: Database, clock: ManualClock, make_actor: Callable[..., Actor]
) -> None:
    from retailos.ledger import service as ledger
    from retailos.payments import service as payments

    shop = make_actor("retailer")
    store = stock_a_store(db, shop.tenant_id, skus=1, units=5)
    placed = client.post("/v1/checkouts", headers=shop.headers, json={
        "currency": "USD", "customer": {"email": "late@example.com"},
        "payment": {"card_number": PENDING_CARD},
        "lines": [{"sku_id": store.sku_ids[0], "quantity": 2}]})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["orders"][0]["id"]
    assert client.get(f"/v1/orders/{order_id}", headers=shop.headers).json()["status"] == "placed"

    with db.transaction() as s:
        payment = payments.get_payment(s, shop.tenant_id, placed.json()["payment"]["id"])
    processor = cast(TestProvider, registered_provider("test")).connected(db.engine)
    body, headers = processor.signed(processor.confirm(payment.provider_ref))
    assert client.post("/v1/payments/provider-events", content=body,
                       headers=headers).status_code == 200

    handlers.install()
    worker = Worker(db, clock, upkeep=[handlers.upkeep])
    with httpx.Client() as http:
        worker.run_once(http)
        worker.run_once(http)  # a second pass changes nothing: the handler is idempotent

    order = client.get(f"/v1/orders/{order_id}", headers=shop.headers).json()
    assert order["status"] == "paid"
    with db.transaction() as s:
        assert payments.get_payment(s, shop.tenant_id, payment.id).status == "captured"
        assert ledger.check(s) == []
        assert ledger.balances(s, shop.tenant_id, "USD")["revenue"].amount == -order["subtotal"]
