"""Checkout: carts and one-shot baskets become order groups, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from retailos.billing import service as billing
from retailos.catalog import service as catalog
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import PaymentError
from retailos.core.money import Money
from retailos.ledger import service as ledger
from retailos.orders import checkout
from retailos.orders import service as orders
from retailos.payments import service as payments
from retailos.payments.providers import TestProvider
from tests.conftest import Actor, recorded_statements
from tests.orders.conftest import (
    DECLINE,
    Store,
    available,
    basket,
    charges,
    counts,
    place,
    stock_store,
)

PROBLEM = "application/problem+json"


def _cart_with(client: TestClient, store: Store, *quantities: int) -> str:
    cart = client.post("/v1/carts", json={"currency": "USD"}, headers=store.headers)
    assert cart.status_code == 201, cart.text
    cart_id = cart.json()["id"]
    for i, q in enumerate(quantities):
        r = client.post(f"/v1/carts/{cart_id}/lines",
                        json={"sku_id": store.skus[i], "quantity": q}, headers=store.headers)
        assert r.status_code == 201, r.text
    return str(cart_id)


def _check_out(client: TestClient, store: Store, cart_id: str, card: str = "4242424242424242",
               key: str | None = None) -> Any:
    headers = {**store.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/carts/{cart_id}/checkout", headers=headers, json={
        "payment": {"card_number": card}, "customer": {"email": "ann@example.com",
                                                       "name": "Ann"}})


def test_cart_checkout_makes_a_group_whose_totals_are_its_lines_plus_tax(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    processor: TestProvider,
) -> None:
    with db.transaction() as s:
        orders.set_tax_rate(s, clock, store.tenant_id, 825)
    cart_id = _cart_with(client, store, 3, 1, 2)

    r = _check_out(client, store, cart_id)

    assert r.status_code == 201, r.text
    group = r.json()
    subtotal = 3 * 100 + 1 * 200 + 2 * 300
    line_taxes = [25, 17, 50]  # 8.25 % of 300, 200, 600, rounded half away from zero
    assert (group["subtotal"], group["tax"]) == (subtotal, sum(line_taxes))
    assert group["total"] == subtotal + sum(line_taxes)
    assert group["cart_id"] == cart_id
    assert group["customer"] == {"email": "ann@example.com", "name": "Ann"}
    (order,) = group["orders"]
    assert order["seller_id"] == store.tenant_id
    assert order["total"] == group["total"]
    assert sorted(x["tax"] for x in order["lines"]) == sorted(line_taxes)
    assert order["fees"]["total"] == order["fees"]["referral"] + order["fees"]["per_order"] > 0
    assert charges(processor) == [("captured", group["total"], group["total"], 0)]
    cart = client.get(f"/v1/carts/{cart_id}", headers=store.headers).json()
    assert (cart["status"], cart["order_group_id"]) == ("checked_out", group["id"])
    again = client.get(f"/v1/order-groups/{group['id']}", headers=store.headers)
    assert again.json() == group
    with db.transaction() as s:
        assert ledger.check(s) == []


def test_prices_come_from_the_catalogue_at_checkout_not_from_the_cart_or_client(
    client: TestClient, db: Database, clock: ManualClock, store: Store
) -> None:
    cart_id = _cart_with(client, store, 2)
    with db.transaction() as s:
        catalog.set_price(s, clock, store.tenant_id, store.skus[0], "USD", 999)
    assert client.get(f"/v1/carts/{cart_id}", headers=store.headers).json()["subtotal"] == 1998

    group = _check_out(client, store, cart_id).json()

    assert group["orders"][0]["lines"][0]["unit_price"] == 999
    assert group["total"] == 1998
    smuggled = basket(store, 1)
    smuggled["lines"][0]["unit_price"] = 1
    r = client.post("/v1/checkouts", json=smuggled, headers=store.headers)
    assert r.status_code == 422


def test_cart_lines_can_be_added_changed_and_removed(client: TestClient, store: Store) -> None:
    cart_id = _cart_with(client, store, 1, 1)
    client.post(f"/v1/carts/{cart_id}/lines", json={"sku_id": store.skus[0], "quantity": 2},
                headers=store.headers)
    lines = client.get(f"/v1/carts/{cart_id}", headers=store.headers).json()["lines"]
    assert {x["sku_id"]: x["quantity"] for x in lines} == {store.skus[0]: 3, store.skus[1]: 1}
    first, second = lines
    r = client.patch(f"/v1/carts/{cart_id}/lines/{first['id']}", json={"quantity": 5},
                     headers=store.headers)
    assert r.json()["subtotal"] == 5 * 100 + 200
    r = client.delete(f"/v1/carts/{cart_id}/lines/{second['id']}", headers=store.headers)
    assert [x["sku_id"] for x in r.json()["lines"]] == [store.skus[0]]


@pytest.mark.parametrize("sku_id", ["sku_unknown", "unpriced"])
def test_unknown_or_unpriced_sku_is_a_422_naming_it(
    client: TestClient, db: Database, clock: ManualClock, store: Store, sku_id: str
) -> None:
    if sku_id == "unpriced":
        with db.transaction() as s:
            sku_id = catalog.remove_price(s, clock, store.tenant_id, store.skus[0], "USD").id
    body = basket(store, 1)
    body["lines"][0]["sku_id"] = sku_id

    r = client.post("/v1/checkouts", json=body, headers=store.headers)

    assert r.status_code == 422
    assert r.json()["type"] == "urn:retailos:problem:invalid-input"
    assert r.json()["skus"] == [sku_id]
    cart_id = _cart_with(client, store)
    added = client.post(f"/v1/carts/{cart_id}/lines", json={"sku_id": sku_id, "quantity": 1},
                        headers=store.headers)
    assert added.status_code == 422


def test_empty_cart_cannot_be_checked_out(client: TestClient, db: Database,
                                          store: Store) -> None:
    r = _check_out(client, store, _cart_with(client, store))
    assert r.status_code == 422
    assert "empty" in r.json()["detail"]
    assert counts(db, store.tenant_id)["groups"] == 0


def test_out_of_stock_is_a_409_naming_the_sku_and_reserves_nothing(
    client: TestClient, db: Database, store: Store, processor: TestProvider
) -> None:
    before = available(db, store)

    r = place(client, store, 1, 11)

    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:retailos:problem:out-of-stock"
    assert store.skus[1] in r.text
    assert available(db, store) == before
    assert counts(db, store.tenant_id) == {"groups": 0, "orders": 0, "holds": 0, "entries": 0}
    assert charges(processor) == []


def test_declined_card_is_a_402_and_leaves_no_hold(
    client: TestClient, db: Database, store: Store
) -> None:
    before = available(db, store)

    r = place(client, store, 2, card=DECLINE)

    assert r.status_code == 402
    assert r.json()["type"] == "urn:retailos:problem:payment-declined"
    assert available(db, store) == before
    assert counts(db, store.tenant_id) == {"groups": 0, "orders": 0, "holds": 0, "entries": 0}


def test_replay_with_the_same_key_returns_the_same_group_and_charges_once(
    client: TestClient, db: Database, store: Store, processor: TestProvider
) -> None:
    first = place(client, store, 2, 1, key="basket-1")
    again = place(client, store, 2, 1, key="basket-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(charges(processor)) == 1
    assert counts(db, store.tenant_id)["groups"] == 1
    assert available(db, store, store.skus[:2]) == {store.skus[0]: 8, store.skus[1]: 9}


def test_a_checked_out_cart_answers_with_its_group_under_another_key(
    client: TestClient, db: Database, store: Store, processor: TestProvider
) -> None:
    cart_id = _cart_with(client, store, 1)
    first = _check_out(client, store, cart_id, key="a")
    second = _check_out(client, store, cart_id, key="b")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert len(charges(processor)) == 1
    r = client.post(f"/v1/carts/{cart_id}/lines", json={"sku_id": store.skus[1], "quantity": 1},
                    headers=store.headers)
    assert r.status_code == 409


def test_retry_after_a_lost_commit_reuses_the_authorisation(
    db: Database, clock: ManualClock, store: Store, processor: TestProvider
) -> None:
    """A crash between the provider's answer and our commit: the retry charges no one twice."""
    request = checkout.CheckoutRequest(
        currency="USD", lines=[(store.skus[0], 1)], card_number="4242424242424242",
        customer=checkout.Customer("ann@example.com"), idempotency_key="crash-1")
    with db.sessions() as s:  # runs, then "crashes": never committed
        checkout.checkout(s, clock, store.tenant_id, request)
        s.rollback()
    with db.transaction() as s:
        result = checkout.checkout(s, clock, store.tenant_id, request)
        assert result.created

    assert len(charges(processor)) == 1
    assert counts(db, store.tenant_id)["groups"] == 1


STEPS = [step.name for step in checkout.workflow().steps]
STEP_FUNCTIONS = {
    "price": "price_lines", "claim": "create_order_group", "reserve": "reserve_stock",
    "allocate": "allocate_stock", "authorise": "authorise_payment", "post": "post_sale",
    "publish": "publish_events", "flush": "flush",
}


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step", STEPS)
def test_a_failing_step_leaves_no_order_hold_or_entry_and_no_live_authorisation(
    client: TestClient, db: Database, store: Store, processor: TestProvider,
    monkeypatch: pytest.MonkeyPatch, step: str, when: str,
) -> None:
    name = STEP_FUNCTIONS[step]
    original: Callable[[checkout.CheckoutState], None] = getattr(checkout, name)

    def failing(state: checkout.CheckoutState) -> None:
        if when == "after":
            original(state)
        raise RuntimeError(f"injected failure {when} {step}")

    monkeypatch.setattr(checkout, name, failing)
    before = available(db, store)

    r = place(client, store, 2, 3, key=f"fail-{step}-{when}")

    assert r.status_code == 500
    assert counts(db, store.tenant_id) == {"groups": 0, "orders": 0, "holds": 0, "entries": 0}
    assert available(db, store) == before
    made = charges(processor)
    assert all(status in ("voided", "refunded") for status, *_ in made), made
    reached_payment = STEPS.index(step) > STEPS.index("authorise") or (
        step == "authorise" and when == "after")
    assert len(made) == (1 if reached_payment else 0)


def test_the_processors_charge_is_posted_with_the_sale_and_shows_in_the_pnl(
    client: TestClient, db: Database, clock: ManualClock, store: Store, processor: TestProvider,
    operator: Actor,
) -> None:
    group = place(client, store, 2, 3).json()
    fee = processor.fee_for(Money(group["total"], "USD"))

    payment = client.get(f"/v1/payments/{group['payment']['id']}", headers=store.headers).json()
    assert payment["processing_fee"] == fee
    today = clock.now().date()
    with db.transaction() as s:
        books = ledger.balances(s, operator.tenant_id, "USD")
        assert books["payment_processing"] == Money(fee, "USD")
        assert books["cash_clearing"] == Money(group["total"] - fee, "USD")
        assert ledger.check(s) == []
        pnl = billing.profit_and_loss(s, operator.tenant_id, today, today, "USD")
    assert [(row.name, row.amount.amount) for row in pnl.costs] == [("payment_processing", fee)]


def test_processing_shares_split_a_charge_by_order_totals_and_lose_no_cent() -> None:
    def order(total: int) -> Any:
        return SimpleNamespace(total=total)

    assert checkout.processing_shares(100, [order(1), order(1), order(1)]) == [33, 33, 34]
    assert checkout.processing_shares(59, [order(1000)]) == [59]
    assert checkout.processing_shares(0, [order(5), order(7)]) == [0, 0]
    assert checkout.processing_shares(10, []) == []


def test_a_capture_the_provider_fails_voids_the_authorisation(
    client: TestClient, db: Database, store: Store, processor: TestProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def provider_down(*args: Any, **kw: Any) -> Any:
        raise PaymentError("the payment provider did not answer", retryable=True)

    monkeypatch.setattr(payments, "capture", provider_down)

    r = place(client, store, 1)

    assert r.status_code == 502
    assert [c[0] for c in charges(processor)] == ["voided"]
    assert counts(db, store.tenant_id)["holds"] == 0


def test_another_tenants_cart_and_group_are_not_found(
    client: TestClient, db: Database, clock: ManualClock, store: Store,
    make_actor: Callable[..., Actor],
) -> None:
    other = stock_store(db, clock, make_actor("retailer", "Other"), products=2)
    cart_id = _cart_with(client, store, 1)
    group = place(client, store, 1).json()

    assert client.get(f"/v1/carts/{cart_id}", headers=other.headers).status_code == 404
    assert _check_out(client, other, cart_id).status_code == 404
    r = client.post(f"/v1/carts/{cart_id}/lines",
                    json={"sku_id": store.skus[0], "quantity": 1}, headers=other.headers)
    assert r.status_code == 404
    assert client.get(f"/v1/order-groups/{group['id']}",
                      headers=other.headers).status_code == 404
    line_id = client.get(f"/v1/carts/{cart_id}", headers=store.headers).json()["lines"][0]["id"]
    assert client.patch(f"/v1/carts/{cart_id}/lines/{line_id}", json={"quantity": 9},
                        headers=other.headers).status_code == 404
    assert client.delete(f"/v1/carts/{cart_id}/lines/{line_id}",
                         headers=other.headers).status_code == 404
    lines = client.get(f"/v1/carts/{cart_id}", headers=store.headers).json()["lines"]
    assert [(x["id"], x["quantity"]) for x in lines] == [(line_id, 1)]
    # another tenant's sku is not for sale here
    foreign = basket(other, 1)
    foreign["lines"][0]["sku_id"] = store.skus[0]
    assert client.post("/v1/checkouts", json=foreign, headers=other.headers).status_code == 422


def test_scopes_are_enforced(client: TestClient, store: Store,
                             make_actor: Callable[..., Actor]) -> None:
    reader = make_actor("retailer", scopes=["orders:read"])
    r = client.post("/v1/carts", json={"currency": "USD"}, headers=reader.headers)
    assert r.status_code == 403
    assert client.get("/v1/orders", headers=reader.headers).status_code == 200


def _statements(db: Database, run: Callable[[], Any]) -> int:
    """Statements our database ran for `run`; the test processor's own are not ours (on
    PostgreSQL it keeps its tables in the same database)."""
    with recorded_statements(db) as seen:
        run()
    return len([statement for statement in seen if "testprovider_" not in statement])


def test_statements_per_checkout_do_not_grow_with_lines_and_stay_within_30(
    client: TestClient, db: Database, store: Store
) -> None:
    assert place(client, store, 1, key="warm-up").status_code == 201  # accounts now exist

    one = _statements(db, lambda: place(client, store, 1, key="one"))
    twenty = _statements(db, lambda: place(client, store, *[1] * 20, key="twenty"))

    assert one == twenty
    # Measured 30 on SQLite: the request's 5 (BEGIN, key, tenant, idempotency read and write),
    # catalogue 1, tax rate 1, fee quote 1, order group claim and update 2, inventory reserve +
    # allocate 8, payments authorise + capture 4, orders, lines and every event in one
    # statement each 3, ledger sale 4, usage 1. PostgreSQL: 30 too (no BEGIN statement, but the
    # ledger opens accounts before it locks them).
    assert twenty <= 30


def test_a_cart_retried_without_a_key_after_a_lost_commit_is_charged_once(
    client: TestClient, db: Database, clock: ManualClock, store: Store, processor: TestProvider
) -> None:
    cart_id = _cart_with(client, store, 1)
    with db.sessions() as s:  # the first attempt never commits
        checkout.checkout_cart(s, clock, store.tenant_id, cart_id, "4242424242424242",
                               checkout.Customer("ann@example.com"))
        s.rollback()

    r = _check_out(client, store, cart_id)

    assert r.status_code == 201
    assert charges(processor) == [("captured", 100, 100, 0)]
