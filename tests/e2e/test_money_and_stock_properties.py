"""Random sequences of checkouts, cancellations, shipments, returns, refunds and stock moves,
driven through the HTTP API; after every step, stock recomputed from movements equals stock
held, the ledger balances, and the money taken equals the money the books say was taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
)
from sqlalchemy import func, select

from retailos.api.app import create_app
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.tenants import service as tenants
from tests.conftest import Template
from tests.e2e.store import Store, stock_a_store

CARDS = {"approve": "4242424242424242", "decline": "4000000000000002"}


def machine_for(template: Template) -> type[RuleBasedStateMachine]:
    class Shop(RuleBasedStateMachine):
        orders = Bundle("orders")

        def __init__(self) -> None:
            super().__init__()
            self.db = Database(template.make())
            self.clock = ManualClock()
            with self.db.transaction() as s:
                self.operator_id = tenants.create_tenant(s, self.clock, "operator", "Platform").id
                store = tenants.create_tenant(s, self.clock, "retailer", "Shop")
                token = tenants.create_api_key(s, self.clock, store.id, "k").token
            self.store: Store = stock_a_store(self.db, store.id, skus=4, units=6)
            self.headers = {"Authorization": f"Bearer {token}"}
            self.client = TestClient(create_app(db=self.db, clock=self.clock),
                                     raise_server_exceptions=False)
            self.keys = 0

        def post(self, path: str, body: dict[str, Any]) -> Any:
            self.keys += 1
            return self.client.post(path, json=body,
                                    headers={**self.headers, "Idempotency-Key": f"k{self.keys}"})

        def teardown(self) -> None:
            self.client.close()
            self.db.dispose()

        @rule(target=orders, picks=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 3)),
                                             min_size=1, max_size=3),
              card=st.sampled_from(["approve"] * 4 + ["decline"]))
        def checkout(self, picks: list[tuple[int, int]], card: str) -> Any:
            body = {"currency": "USD", "customer": {"email": "p@example.com"},
                    "payment": {"card_number": CARDS[card]},
                    "lines": [{"sku_id": self.store.sku_ids[i], "quantity": q} for i, q in picks]}
            r = self.post("/v1/checkouts", body)
            assert r.status_code in (201, 402, 409, 422), r.text
            event(f"checkout {r.status_code}")
            if card == "decline":
                assert r.status_code != 201
            if r.status_code != 201:
                return multiple()
            return multiple(*[o["id"] for o in r.json()["orders"]])

        @rule(order=orders)
        def cancel(self, order: str) -> None:
            r = self.post(f"/v1/orders/{order}/cancel", {})
            assert r.status_code in (200, 409), r.text
            event(f"cancel {r.status_code}")

        @rule(order=orders)
        def ship(self, order: str) -> None:
            for step in ("fulfil", "ship", "deliver"):
                r = self.post(f"/v1/orders/{order}/{step}", {})
                assert r.status_code in (200, 201, 409), r.text

        @rule(order=consumes(orders), data=st.data())
        def give_back(self, order: str, data: st.DataObject) -> None:
            lines = self.client.get(f"/v1/orders/{order}", headers=self.headers).json()["lines"]
            line = data.draw(st.sampled_from(lines))
            qty = data.draw(st.integers(1, line["quantity"] + 1))  # one too many now and then
            body = {"lines": [{"sku_id": line["sku_id"], "quantity": qty}],
                    "reason": "changed mind"}
            r = self.post(f"/v1/orders/{order}/returns", body)
            assert r.status_code in (201, 409, 422), r.text
            event(f"return {r.status_code}")

        @rule(sku=st.integers(0, 3), qty=st.integers(1, 5))
        def receive(self, sku: int, qty: int) -> None:
            r = self.post("/v1/inventory/receipts", {
                "location_id": self.store.location_id, "sku_id": self.store.sku_ids[sku],
                "quantity": qty})
            assert r.status_code == 201, r.text

        @rule(sku=st.integers(0, 3), delta=st.integers(-4, 4).filter(bool))
        def adjust(self, sku: int, delta: int) -> None:
            r = self.post("/v1/inventory/adjustments", {
                "location_id": self.store.location_id, "sku_id": self.store.sku_ids[sku],
                "delta": delta, "reason": "count_correction"})
            assert r.status_code in (201, 409), r.text

        @rule(minutes=st.integers(1, 60))
        def time_passes(self, minutes: int) -> None:
            self.clock.advance(minutes=minutes)

        @invariant()
        def stock_and_money_add_up(self) -> None:
            from retailos.inventory import service as inventory
            from retailos.ledger import service as ledger
            from retailos.orders.models import Order
            from retailos.payments.models import Payment

            with self.db.transaction() as s:
                assert inventory.audit(s, self.store.tenant_id) == []
                levels = inventory.available_to_promise(s, self.store.tenant_id,
                                                        self.store.sku_ids)
                assert min(levels.values()) >= 0
                assert ledger.check(s) == []
                taken, kept = s.execute(select(
                    func.coalesce(func.sum(Payment.captured_amount - Payment.refunded_amount), 0),
                    func.coalesce(func.sum(Payment.processing_fee), 0))
                    .where(Payment.tenant_id == self.store.tenant_id)).one()
                owed, fees = s.execute(
                    select(func.coalesce(func.sum(Order.total - Order.refunded), 0),
                           func.coalesce(func.sum(Order.fee_total - Order.fees_returned), 0))
                    .where(Order.tenant_id == self.store.tenant_id, Order.paid_at.is_not(None))
                ).one()
                collected = self.cash(s, self.operator_id)
                processing = self.balance(s, self.operator_id, "payment_processing")
                held_for_store = self.cash(s, self.store.tenant_id)
            # what the processor took = what paid orders still owe = the operator's cash plus
            # the processor's charges (its expense), and the store's share of it is that less
            # the platform's fees
            assert taken == owed == collected + kept, (taken, owed, collected, kept)
            assert processing == kept, (processing, kept)
            assert held_for_store == taken - fees, (held_for_store, taken, fees)

        @staticmethod
        def balance(session: Any, tenant_id: str, account: str) -> int:
            from retailos.ledger import service as ledger

            books = ledger.balances(session, tenant_id, "USD")
            return books[account].amount if account in books else 0

        def cash(self, session: Any, tenant_id: str) -> int:
            return self.balance(session, tenant_id, "cash_clearing")

    return Shop


def test_random_shop_histories_keep_stock_and_money_consistent(
    db_template: Template, make_actor: Callable[..., Any]
) -> None:
    machine = machine_for(db_template)
    machine.TestCase.settings = settings(
        max_examples=30, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
