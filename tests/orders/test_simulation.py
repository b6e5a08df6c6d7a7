"""A seeded simulation of a store's day: random checkouts (some declined, some pending), cancels,
shipments and partial returns, with the invariants checked after every step."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from sqlalchemy import select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Problem
from retailos.ledger import service as ledger
from retailos.orders import checkout, states
from retailos.orders import service as orders
from retailos.orders.models import Order, OrderLine
from retailos.payments.providers import TestProvider
from tests.conftest import Actor
from tests.orders.conftest import APPROVE, DECLINE, PENDING, available, charges, stock_store

UNITS = 6


def _check_invariants(db: Database, store_skus: list[str], tenant_id: str,
                      processor: TestProvider, free: dict[str, int]) -> None:
    with db.transaction() as s:
        assert ledger.check(s) == []
        rows = s.execute(select(Order, OrderLine).join(OrderLine, OrderLine.order_id == Order.id)
                         .where(Order.tenant_id == tenant_id)).all()
        held: dict[str, int] = defaultdict(int)  # allocated to live orders, or gone to shoppers
        for order, line in rows:
            if order.status in (states.PLACED, states.PAID, states.FULFILLED, states.SHIPPED,
                                states.DELIVERED, states.RETURNED):
                held[line.sku_id] += line.quantity - line.returned_quantity
        paid = {o.id: o for o, _ in rows if o.paid_at is not None}
    for sku in store_skus:
        assert free[sku] + held[sku] == UNITS, sku  # no unit lost or made up
    net_charged = sum(captured - refunded for _, _, captured, refunded in charges(processor))
    assert net_charged == sum(o.total - o.refunded for o in paid.values())
    assert all(0 <= o.refunded <= o.total for o in paid.values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_day_keeps_stock_money_and_the_ledger_consistent(
    db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    processor: TestProvider, seed: int,
) -> None:
    rng = random.Random(seed)
    store = stock_store(db, clock, retailer, products=4, units=UNITS)
    with db.transaction() as s:
        orders.set_tax_rate(s, clock, store.tenant_id, rng.choice([0, 700, 1_000]))
    placed: list[str] = []
    done: dict[str, int] = defaultdict(int)
    for step in range(40):
        action = rng.choices(["checkout", "cancel", "advance", "return"], [4, 1, 2, 2])[0]
        try:
            with db.transaction() as s:
                if action == "checkout" or not placed:
                    skus = rng.sample(store.skus, rng.randint(1, 3))
                    card = rng.choices([APPROVE, DECLINE, PENDING], [8, 1, 1])[0]
                    result = checkout.checkout(s, clock, store.tenant_id, checkout.CheckoutRequest(
                        currency="USD", lines=[(k, rng.randint(1, 3)) for k in skus],
                        card_number=card, customer=checkout.Customer("sim@example.com"),
                        idempotency_key=f"sim-{seed}-{step}"))
                    placed += [v.order.id for v in orders.group_view(s, result.group).orders]
                else:
                    order_id = rng.choice(placed)
                    view = orders.get_order(s, store.tenant_id, order_id)
                    if action == "cancel":
                        orders.cancel_order(s, clock, store.tenant_id, order_id)
                    elif action == "advance":
                        move = {"paid": orders.fulfil_order, "fulfilled": orders.ship_order,
                                "shipped": orders.deliver_order}.get(view.order.status)
                        if move is not None:
                            move(s, clock, store.tenant_id, order_id)
                    else:
                        line = rng.choice(view.lines)
                        left = line.quantity - line.returned_quantity
                        orders.return_items(s, clock, store.tenant_id, order_id,
                                            [(line.sku_id, rng.randint(1, max(left, 1)))], "sim")
            done[action] += 1
        except Problem:
            pass  # out of stock, declined, illegal moves: refused whole, which is the point
        _check_invariants(db, store.skus, store.tenant_id, processor, available(db, store))
    assert done["checkout"] >= 5 and done["advance"] >= 1
