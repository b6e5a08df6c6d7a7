"""Random sequences of stock operations, with the invariants checked after every step: the
stock rows agree with the movements and holds they are recomputed from (audit is empty),
nothing is negative, and on_hand per SKU matches a plain model of what happened."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.orm import Session

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Conflict, NotFound, OutOfStock
from retailos.inventory import service as inventory
from retailos.inventory.models import ADJUST_REASONS, Stock
from tests.inventory.conftest import make_shop

SKUS = st.integers(0, 2)
PLACES = st.sampled_from(["warehouse", "store"])


def test_random_operations_keep_stock_consistent(db: Database) -> None:
    class StockMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = ManualClock()
            self.shop = make_shop(db, self.clock)
            self.skus = self.shop.skus(3)
            self.on_hand: Counter[str] = Counter()
            self.holds: dict[str, Counter[str]] = {}  # hold id -> units per sku
            self.orders: dict[str, Counter[str]] = {}  # allocated, not yet shipped
            self.shipped: list[tuple[str, str]] = []  # (order id, sku)
            self.serial = 0

        def run(self, work: Any) -> Any:
            with db.transaction() as s:
                return work(s)

        def place(self, name: str) -> str:
            return str(getattr(self.shop, name))

        @rule(i=SKUS, where=PLACES, qty=st.integers(1, 6))
        def receive(self, i: int, where: str, qty: int) -> None:
            self.run(lambda s: inventory.receive(s, self.clock, self.shop.tenant_id,
                                                 self.place(where), self.skus[i], qty))
            self.on_hand[self.skus[i]] += qty

        @rule(i=SKUS, where=PLACES, delta=st.integers(-5, 5).filter(bool),
              reason=st.sampled_from(ADJUST_REASONS))
        def adjust(self, i: int, where: str, delta: int, reason: str) -> None:
            try:
                self.run(lambda s: inventory.adjust(s, self.clock, self.shop.tenant_id,
                                                    self.place(where), self.skus[i], delta,
                                                    reason))
            except (Conflict, NotFound):
                return
            self.on_hand[self.skus[i]] += delta

        @rule(i=SKUS, to_store=st.booleans(), qty=st.integers(1, 4))
        def transfer(self, i: int, to_store: bool, qty: int) -> None:
            there, here = ("warehouse", "store") if to_store else ("store", "warehouse")
            with contextlib.suppress(OutOfStock):
                self.run(lambda s: inventory.transfer(s, self.clock, self.shop.tenant_id,
                                                      self.skus[i], self.place(there),
                                                      self.place(here), qty))

        @rule(lines=st.lists(st.tuples(SKUS, st.integers(1, 4)), min_size=1, max_size=4),
              minutes=st.integers(1, 30))
        def reserve(self, lines: list[tuple[int, int]], minutes: int) -> None:
            wanted = [(self.skus[i], q) for i, q in lines]
            self.serial += 1
            try:
                hold = self.run(lambda s: inventory.reserve(
                    s, self.clock, self.shop.tenant_id, wanted, f"chk_{self.serial}",
                    timedelta(minutes=minutes)))
            except OutOfStock:
                return
            units: Counter[str] = Counter()
            for k, q in wanted:
                units[k] += q
            self.holds[hold] = units

        @rule(data=st.data())
        def allocate(self, data: st.DataObject) -> None:
            if not self.holds:
                return
            hold = data.draw(st.sampled_from(sorted(self.holds)))
            units = self.holds.pop(hold)
            order = f"ord_{hold[-8:]}"
            try:
                self.run(lambda s: inventory.allocate(s, self.clock, self.shop.tenant_id, hold,
                                                      dict.fromkeys(units, order)))
            except Conflict:
                return  # expired or released meanwhile
            self.orders[order] = units

        @rule(data=st.data())
        def release(self, data: st.DataObject) -> None:
            if self.holds:
                hold = data.draw(st.sampled_from(sorted(self.holds)))
                self.holds.pop(hold)
                self.run(lambda s: inventory.release(s, self.clock, self.shop.tenant_id, hold))

        @rule(data=st.data(), whole=st.booleans())
        def deallocate(self, data: st.DataObject, whole: bool) -> None:
            if not self.orders:
                return
            order = data.draw(st.sampled_from(sorted(self.orders)))
            units = self.orders[order]
            if whole:
                self.run(lambda s: inventory.deallocate(s, self.clock, self.shop.tenant_id,
                                                        order))
                del self.orders[order]
                return
            k = data.draw(st.sampled_from(sorted(units)))
            q = data.draw(st.integers(1, units[k]))
            self.run(lambda s: inventory.deallocate(s, self.clock, self.shop.tenant_id, order,
                                                    [(k, q)]))
            units[k] -= q
            if units[k] == 0:
                del units[k]
            if not units:
                del self.orders[order]

        @rule(data=st.data())
        def ship(self, data: st.DataObject) -> None:
            if not self.orders:
                return
            order = data.draw(st.sampled_from(sorted(self.orders)))
            units = self.orders.pop(order)
            self.run(lambda s: inventory.ship(s, self.clock, self.shop.tenant_id, order))
            for k, q in units.items():
                self.on_hand[k] -= q
                self.shipped.append((order, k))

        @rule(data=st.data(), qty=st.integers(1, 3))
        def restock(self, data: st.DataObject, qty: int) -> None:
            if self.shipped:
                order, k = data.draw(st.sampled_from(self.shipped))
                self.run(lambda s: inventory.restock(s, self.clock, self.shop.tenant_id, k, qty,
                                                     order))
                self.on_hand[k] += qty

        @rule(minutes=st.integers(1, 20), sweep=st.booleans())
        def time_passes(self, minutes: int, sweep: bool) -> None:
            self.clock.advance(minutes=minutes)
            if sweep:
                self.run(lambda s: inventory.expire_holds(s, self.clock))

        @invariant()
        def stock_agrees_with_its_history(self) -> None:
            def check(s: Session) -> None:
                assert inventory.audit(s, self.shop.tenant_id) == []
                rows = s.execute(select(Stock).where(Stock.tenant_id == self.shop.tenant_id))
                totals: Counter[str] = Counter()
                for row in rows.scalars():
                    assert row.on_hand - row.allocated - row.reserved >= 0
                    totals[row.sku_id] += row.on_hand
                assert +totals == +self.on_hand
                atp = inventory.available_to_promise(s, self.shop.tenant_id, self.skus,
                                                     clock=self.clock)
                assert all(v >= 0 for v in atp.values())

            self.run(check)

    run_state_machine_as_test(StockMachine, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    ))
