"""After checkout: the state machine, shipments, cancels, returns and late payment confirmation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import IllegalTransition
from retailos.core.money import Money
from retailos.core.outbox import OutboxEvent
from retailos.ledger import service as ledger
from retailos.orders import checkout, states
from retailos.orders import service as orders
from retailos.payments import providers
from retailos.payments import service as payments
from retailos.payments.providers import TestProvider
from tests.conftest import Actor
from tests.orders.conftest import PENDING, Store, available, charges, place, stock_store

MOVES = {"fulfil": "fulfilled", "ship": "shipped", "deliver": "delivered", "cancel": "cancelled"}
# How to bring a paid order to each status through the API.
PATHS = {
    "paid": [], "fulfilled": ["fulfil"], "shipped": ["fulfil", "ship"],
    "delivered": ["fulfil", "ship", "deliver"], "cancelled": ["cancel"],
}


def _order(client: TestClient, store: Store, *quantities: int, **kw: Any) -> dict[str, Any]:
    r = place(client, store, *quantities, **kw)
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()["orders"][0]
    return order


def _move(client: TestClient, store: Store, order_id: str, action: str) -> Any:
    return client.post(f"/v1/orders/{order_id}/{action}", headers=store.headers)


def _bring(client: TestClient, store: Store, status: str) -> str:
    order_id = str(_order(client, store, 1)["id"])
    for action in PATHS[status]:
        assert _move(client, store, order_id, action).status_code == 200
    return order_id


def _events(db: Database, tenant_id: str) -> list[str]:
    with db.transaction() as s:
        return list(s.scalars(select(OutboxEvent.type).where(
            OutboxEvent.tenant_id == tenant_id, OutboxEvent.type.like("order%"))
            .order_by(OutboxEvent.id)))


def _ledger_ok(db: Database) -> None:
    with db.transaction() as s:
        assert ledger.check(s) == []


@pytest.mark.parametrize("current", states.STATUSES)
@pytest.mark.parametrize("wanted", states.STATUSES)
def test_the_state_machine_allows_exactly_its_transitions(current: str, wanted: str) -> None:
    legal = wanted in states.TRANSITIONS[current]
    if legal:
        states.check_transition("ord_x", current, wanted)
    else:
        with pytest.raises(IllegalTransition):
            states.check_transition("ord_x", current, wanted)
    assert legal == ((current, wanted) in {
        ("placed", "paid"), ("placed", "cancelled"), ("paid", "fulfilled"),
        ("paid", "cancelled"), ("fulfilled", "shipped"), ("fulfilled", "cancelled"),
        ("shipped", "delivered"), ("shipped", "returned"), ("delivered", "returned"),
    })


@pytest.mark.parametrize(("status", "action", "legal"), [
    ("paid", "fulfil", True), ("paid", "ship", False), ("paid", "deliver", False),
    ("fulfilled", "ship", True), ("fulfilled", "fulfil", False),
    ("shipped", "deliver", True), ("shipped", "cancel", False),
    ("delivered", "cancel", False), ("delivered", "ship", False),
    ("cancelled", "fulfil", False), ("cancelled", "cancel", False),
])
def test_moves_over_http_follow_the_state_machine(
    client: TestClient, store: Store, status: str, action: str, legal: bool
) -> None:
    order_id = _bring(client, store, status)

    r = _move(client, store, order_id, action)

    if legal:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == MOVES[action]
    else:
        assert r.status_code == 409
        assert r.json()["type"] == "urn:retailos:problem:illegal-transition"
        assert r.json()["status"] == 409
        got = client.get(f"/v1/orders/{order_id}", headers=store.headers).json()
        assert got["status"] == status


def test_shipping_creates_a_shipment_and_the_stock_leaves(
    client: TestClient, db: Database, store: Store
) -> None:
    order_id = _bring(client, store, "fulfilled")

    r = client.post(f"/v1/orders/{order_id}/ship", json={"carrier": "UPS",
                                                         "tracking_number": "1Z"},
                    headers=store.headers)

    (shipment,) = r.json()["shipments"]
    assert (shipment["status"], shipment["carrier"]) == ("shipped", "UPS")
    assert available(db, store, store.skus[:1]) == {store.skus[0]: 9}
    delivered = _move(client, store, order_id, "deliver").json()
    assert delivered["shipments"][0]["status"] == "delivered"
    # ids made in the same millisecond do not sort by creation, so compare as a set
    assert sorted(_events(db, store.tenant_id)) == sorted([
        "order_group.created", "order.placed", "order.paid", "order.fulfilled", "order.shipped",
        "order.delivered"])


@pytest.mark.parametrize("status", ["paid", "fulfilled"])
def test_cancelling_before_shipment_releases_the_stock_and_refunds(
    client: TestClient, db: Database, store: Store, processor: TestProvider, status: str
) -> None:
    order = _order(client, store, 3, 2)
    if status == "fulfilled":
        _move(client, store, order["id"], "fulfil")

    r = client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "changed mind"},
                    headers=store.headers)

    assert r.status_code == 200
    assert (r.json()["status"], r.json()["refunded"]) == ("cancelled", order["total"])
    assert available(db, store, store.skus[:2]) == {store.skus[0]: 10, store.skus[1]: 10}
    assert charges(processor) == [("refunded", order["total"], order["total"], order["total"])]
    _ledger_ok(db)
    with db.transaction() as s:
        store_balances = ledger.balances(s, store.tenant_id)
    assert store_balances["revenue"].amount == -order["subtotal"]
    assert store_balances["customer_refunds"].amount == order["subtotal"]
    assert store_balances["platform_fees"].amount == 0  # every fee went back


def test_a_partial_then_a_whole_return_restock_and_refund_with_tax(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    processor: TestProvider,
) -> None:
    with db.transaction() as s:
        orders.set_tax_rate(s, clock, store.tenant_id, 1000)
    order = _order(client, store, 3, 1)
    oid = order["id"]
    for action in ("fulfil", "ship", "deliver"):
        _move(client, store, oid, action)
    first = client.post(f"/v1/orders/{oid}/returns", headers=store.headers, json={
        "lines": [{"sku_id": store.skus[0], "quantity": 1}], "reason": "dented"})
    assert first.status_code == 201, first.text
    assert first.json()["order_return"]["amount"] == 100 + 10
    assert first.json()["order"]["status"] == "delivered"
    assert available(db, store, store.skus[:1]) == {store.skus[0]: 8}

    second = client.post(f"/v1/orders/{oid}/returns", headers=store.headers, json={
        "lines": [{"sku_id": store.skus[0], "quantity": 2},
                  {"sku_id": store.skus[1], "quantity": 1}], "reason": "all of it"})

    assert second.status_code == 201, second.text
    assert second.json()["order"]["status"] == "returned"
    assert second.json()["order"]["refunded"] == order["total"] == 500 + 50
    assert available(db, store, store.skus[:2]) == {store.skus[0]: 10, store.skus[1]: 10}
    assert charges(processor) == [("refunded", 550, 550, 550)]
    assert len(client.get(f"/v1/orders/{oid}/returns", headers=store.headers).json()) == 2
    _ledger_ok(db)
    with db.transaction() as s:
        balances = ledger.balances(s, store.tenant_id)
    assert balances["tax_payable"].amount == 0


@pytest.mark.parametrize(("lines", "why"), [
    ([{"quantity": 2}], "only 1"),
    ([{"sku_id": "sku_other", "quantity": 1}], "not in order"),
])
def test_a_return_of_more_than_was_sold_is_refused(
    client: TestClient, store: Store, lines: list[dict[str, Any]], why: str
) -> None:
    order_id = _bring(client, store, "shipped")
    body = [{"sku_id": store.skus[0], **x} for x in lines]

    r = client.post(f"/v1/orders/{order_id}/returns", headers=store.headers,
                    json={"lines": body, "reason": "x"})

    assert r.status_code == 422
    assert why in r.json()["detail"]


def test_an_order_not_yet_shipped_cannot_be_returned(client: TestClient, store: Store) -> None:
    order_id = _bring(client, store, "paid")
    r = client.post(f"/v1/orders/{order_id}/returns", headers=store.headers, json={
        "lines": [{"sku_id": store.skus[0], "quantity": 1}], "reason": "x"})
    assert r.status_code == 409
    assert r.json()["type"] == "urn:retailos:problem:illegal-transition"


def test_a_pending_payment_is_captured_when_confirmed_and_only_once(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    processor: TestProvider,
) -> None:
    r = place(client, store, 2, card=PENDING)
    assert r.status_code == 201, r.text
    group = r.json()
    assert (group["payment"]["status"], group["orders"][0]["status"]) == (
        "pending_confirmation", "placed")
    assert available(db, store, store.skus[:1]) == {store.skus[0]: 8}
    with db.transaction() as s:
        assert ledger.check(s) == []
    (charge,) = charges(processor)
    assert charge[0] == "requires_confirmation"

    payment_id = group["payment"]["id"]
    with processor._transaction() as conn:
        ref = conn.execute(select(providers.TestProviderCharge.id)).scalar_one()
    processor.confirm(ref)
    with db.transaction() as s:
        acted = payments.handle_provider_event(s, clock, processor.events()[0])
        assert acted is not None and acted.status == "authorized", processor.events()
    for _ in range(2):  # the outbox may deliver twice
        with db.transaction() as s:
            orders.on_payment_authorized(s, clock, store.tenant_id, payment_id)

    got = client.get(f"/v1/order-groups/{group['id']}", headers=store.headers).json()
    assert got["payment"]["status"] == "captured"
    assert got["orders"][0]["status"] == "paid"
    assert charges(processor) == [("captured", 200, 200, 0)]
    _ledger_ok(db)
    fee = processor.fee_for(Money(200, "USD"))
    paid = client.get(f"/v1/payments/{payment_id}", headers=store.headers).json()
    assert paid["processing_fee"] == fee
    with db.transaction() as s:
        assert ledger.balances(s, store.tenant_id)["revenue"].amount == -200
        platform = ledger.balances(s, checkout.operator_id(s, store.tenant_id))
        assert platform["payment_processing"].amount == fee


def test_cancelling_an_unconfirmed_order_voids_the_payment(
    client: TestClient, db: Database, store: Store, processor: TestProvider
) -> None:
    order = _order(client, store, 1, card=PENDING)

    r = _move(client, store, order["id"], "cancel")

    assert r.json()["status"] == "cancelled"
    assert [c[0] for c in charges(processor)] == ["voided"]
    assert available(db, store, store.skus[:1]) == {store.skus[0]: 10}


def test_orders_are_listed_by_status_a_page_at_a_time(client: TestClient, store: Store) -> None:
    ids = [_order(client, store, 1)["id"] for _ in range(3)]
    _move(client, store, ids[1], "cancel")

    page = client.get("/v1/orders?limit=2", headers=store.headers).json()
    rest = client.get(f"/v1/orders?limit=2&cursor={page['next_cursor']}",
                      headers=store.headers).json()
    paid = client.get("/v1/orders?status=paid", headers=store.headers).json()

    assert [o["id"] for o in page["data"] + rest["data"]] == ids
    assert rest["next_cursor"] is None
    assert [o["id"] for o in paid["data"]] == [ids[0], ids[2]]
    assert client.get("/v1/orders?status=lost", headers=store.headers).status_code == 422


def test_another_tenants_orders_are_invisible_and_untouchable(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    make_actor: Callable[..., Actor],
) -> None:
    other = stock_store(db, clock, make_actor("retailer", "Other"), products=1)
    order_id = _order(client, store, 1)["id"]

    assert client.get(f"/v1/orders/{order_id}", headers=other.headers).status_code == 404
    assert client.get("/v1/orders", headers=other.headers).json()["data"] == []
    for action in ("cancel", "fulfil", "ship", "deliver"):
        assert _move(client, other, order_id, action).status_code == 404
    r = client.post(f"/v1/orders/{order_id}/returns", headers=other.headers, json={
        "lines": [{"sku_id": store.skus[0], "quantity": 1}], "reason": "x"})
    assert r.status_code == 404
    assert client.get(f"/v1/orders/{order_id}/returns", headers=other.headers).status_code == 404
    assert client.get(f"/v1/orders/{order_id}", headers=store.headers).json()["status"] == "paid"


def _confirm(db: Database, clock: ManualClock, processor: TestProvider, succeed: bool) -> None:
    with processor._transaction() as conn:
        ref = conn.execute(select(providers.TestProviderCharge.id)).scalar_one()
    processor.confirm(ref, succeed=succeed)
    with db.transaction() as s:
        payments.handle_provider_event(s, clock, processor.events()[0])


def _payment_events(db: Database, tenant_id: str) -> list[OutboxEvent]:
    with db.transaction() as s:
        return list(s.scalars(select(OutboxEvent).where(
            OutboxEvent.tenant_id == tenant_id, OutboxEvent.type.like("payment.%"))))


@pytest.mark.parametrize("succeed", [True, False])
def test_the_outbox_hook_pays_or_cancels_a_pending_group(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    processor: TestProvider, succeed: bool,
) -> None:
    order = _order(client, store, 1, card=PENDING)
    _confirm(db, clock, processor, succeed)

    for event in _payment_events(db, store.tenant_id):  # as the outbox worker delivers them
        with db.transaction() as s:
            orders.on_payment_event(s, clock, event.tenant_id, event.type, event.payload)

    got = client.get(f"/v1/orders/{order['id']}", headers=store.headers).json()
    assert got["status"] == ("paid" if succeed else "cancelled")
    assert available(db, store, store.skus[:1]) == {store.skus[0]: 9 if succeed else 10}
    _ledger_ok(db)


def test_the_tax_rate_is_zero_until_set_and_applies_to_later_checkouts(
    client: TestClient, store: Store
) -> None:
    assert client.get("/v1/tax-rate", headers=store.headers).json()["rate_bp"] == 0
    r = client.put("/v1/tax-rate", json={"rate_bp": 2_000}, headers=store.headers)
    assert r.status_code == 200
    assert client.put("/v1/tax-rate", json={"rate_bp": 10_001},
                      headers=store.headers).status_code == 422

    order = _order(client, store, 1)

    assert (order["subtotal"], order["tax"], order["total"]) == (100, 20, 120)


def test_a_return_replayed_with_its_key_refunds_once_even_with_a_long_key(
    client: TestClient, db: Database, store: Store, processor: TestProvider
) -> None:
    order_id = _bring(client, store, "delivered")
    headers = {**store.headers, "Idempotency-Key": "k" * 255}
    body = {"lines": [{"sku_id": store.skus[0], "quantity": 1}], "reason": "broken"}

    first = client.post(f"/v1/orders/{order_id}/returns", json=body, headers=headers)
    again = client.post(f"/v1/orders/{order_id}/returns", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert charges(processor) == [("refunded", 100, 100, 100)]


def test_orders_whose_payment_is_never_confirmed_are_cancelled_after_an_hour(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    processor: TestProvider,
) -> None:
    pending = _order(client, store, 2, card=PENDING)
    paid = _order(client, store, 1)
    with db.transaction() as s:
        assert orders.cancel_unconfirmed(s, clock) == 0

    clock.advance(hours=1)
    with db.transaction() as s:
        assert orders.cancel_unconfirmed(s, clock) == 1

    got = client.get(f"/v1/orders/{pending['id']}", headers=store.headers).json()
    assert got["status"] == "cancelled"
    assert client.get(f"/v1/orders/{paid['id']}", headers=store.headers).json()["status"] == "paid"
    assert sorted(c[0] for c in charges(processor)) == ["captured", "voided"]
    assert available(db, store, store.skus[:1]) == {store.skus[0]: 9}
