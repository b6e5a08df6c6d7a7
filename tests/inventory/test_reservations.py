from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Conflict, OutOfStock
from retailos.inventory import service as inventory
from retailos.inventory.models import Hold
from tests.conftest import recorded_statements
from tests.inventory.conftest import Shop, sku

TTL = timedelta(minutes=15)


def stocked(db: Database, clock: ManualClock, shop: Shop, **at: int) -> str:
    """A new SKU with `warehouse=` and `store=` units on hand."""
    item = shop.sku()
    with db.transaction() as s:
        for where, qty in at.items():
            inventory.receive(s, clock, shop.tenant_id, getattr(shop, where), item, qty)
    return item


def level(db: Database, shop: Shop, item: str, where: str) -> inventory.StockLevel:
    with db.transaction() as s:
        return inventory.stock_level(s, shop.tenant_id, getattr(shop, where), item)


def atp(db: Database, shop: Shop, *items: str) -> dict[str, int]:
    with db.transaction() as s:
        return inventory.available_to_promise(s, shop.tenant_id, items)


def test_reserve_is_all_or_nothing(db: Database, clock: ManualClock, shop: Shop) -> None:
    plenty, scarce = stocked(db, clock, shop, warehouse=10), stocked(db, clock, shop, warehouse=2)
    with db.transaction() as s:
        with pytest.raises(OutOfStock) as caught:
            inventory.reserve(s, clock, shop.tenant_id, [(plenty, 4), (scarce, 2), (scarce, 1)],
                              "chk_1", TTL)
        # The failed reserve wrote nothing and left the session usable.
        assert inventory.available_to_promise(s, shop.tenant_id, [plenty, scarce]) == {
            plenty: 10, scarce: 2}
        held = s.scalars(select(Hold.id).where(Hold.tenant_id == shop.tenant_id)).all()
        assert held == []
    problem = caught.value
    assert problem.extensions == {"sku_id": scarce, "requested": 3, "available": 2}
    assert problem.status == 409
    assert scarce in problem.detail


def test_reserve_of_an_unknown_sku_is_out_of_stock(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    ghost = sku()
    with pytest.raises(OutOfStock) as caught, db.transaction() as s:
        inventory.reserve(s, clock, shop.tenant_id, [(ghost, 1)], "chk_1", TTL)
    assert caught.value.extensions["available"] == 0


def test_reserve_takes_the_fullest_location_first_and_splits(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = stocked(db, clock, shop, warehouse=5, store=8)
    with db.transaction() as s:
        inventory.reserve(s, clock, shop.tenant_id, [(item, 10)], "chk_1", TTL)
    assert level(db, shop, item, "store").reserved == 8
    assert level(db, shop, item, "warehouse").reserved == 2
    assert atp(db, shop, item) == {item: 3}
    with db.transaction() as s:
        assert inventory.available_to_promise(s, shop.tenant_id, [item], shop.warehouse) == {
            item: 3}


def test_expired_holds_stop_counting_and_expire_holds_releases_them(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = stocked(db, clock, shop, warehouse=3)
    with db.transaction() as s:
        first = inventory.reserve(s, clock, shop.tenant_id, [(item, 3)], "chk_1",
                                  timedelta(minutes=10))
    with pytest.raises(OutOfStock), db.transaction() as s:
        inventory.reserve(s, clock, shop.tenant_id, [(item, 1)], "chk_2", TTL)
    clock.advance(minutes=10)
    with db.transaction() as s:
        assert inventory.available_to_promise(s, shop.tenant_id, [item], clock=clock) == {
            item: 3}
        # Another buyer may take the units of the expired hold straight away.
        inventory.reserve(s, clock, shop.tenant_id, [(item, 2)], "chk_2", TTL)
        assert inventory.audit(s) == []
    with pytest.raises(Conflict), db.transaction() as s:
        inventory.allocate(s, clock, shop.tenant_id, first, {item: "ord_1"})
    with db.transaction() as s:
        assert inventory.expire_holds(s, clock) == 1
        assert inventory.expire_holds(s, clock) == 0
        assert inventory.get_hold(s, shop.tenant_id, first).status == "expired"
        assert inventory.audit(s) == []
    assert level(db, shop, item, "warehouse").reserved == 2


def test_expire_holds_gives_back_units_of_every_tenant(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    from tests.inventory.conftest import make_shop

    other = make_shop(db, clock)
    mine, theirs = stocked(db, clock, shop, store=4), stocked(db, clock, other, store=4)
    with db.transaction() as s:
        inventory.reserve(s, clock, shop.tenant_id, [(mine, 4)], "chk_1", timedelta(minutes=1))
        inventory.reserve(s, clock, other.tenant_id, [(theirs, 1)], "chk_2",
                          timedelta(minutes=1))
        inventory.reserve(s, clock, other.tenant_id, [(theirs, 2)], "chk_3", TTL)
    clock.advance(minutes=2)
    with db.transaction() as s:
        assert inventory.expire_holds(s, clock) == 2
    assert atp(db, shop, mine) == {mine: 4}
    assert atp(db, other, theirs) == {theirs: 2}


def test_hold_becomes_allocation_then_ships_and_a_return_restocks(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    a, b = stocked(db, clock, shop, warehouse=5, store=2), stocked(db, clock, shop, store=3)
    with db.transaction() as s:
        hold = inventory.reserve(s, clock, shop.tenant_id, [(a, 6), (b, 1)], "chk_1", TTL)
        inventory.allocate(s, clock, shop.tenant_id, hold, {a: "ord_1", b: "ord_2"})
    assert level(db, shop, a, "warehouse") == inventory.StockLevel(a, shop.warehouse, 5, 0, 5, 0)
    assert level(db, shop, a, "store") == inventory.StockLevel(a, shop.store, 2, 0, 1, 1)
    with pytest.raises(Conflict), db.transaction() as s:
        inventory.allocate(s, clock, shop.tenant_id, hold, {a: "ord_1", b: "ord_2"})
    with db.transaction() as s:
        inventory.ship(s, clock, shop.tenant_id, "ord_1")
        inventory.ship(s, clock, shop.tenant_id, "ord_1")  # again: nothing more happens
    assert level(db, shop, a, "warehouse") == inventory.StockLevel(a, shop.warehouse, 0, 0, 0, 0)
    assert level(db, shop, a, "store") == inventory.StockLevel(a, shop.store, 1, 0, 0, 1)
    with db.transaction() as s:
        inventory.restock(s, clock, shop.tenant_id, a, 2, "ord_1")
        moves, _ = inventory.list_movements(s, shop.tenant_id, sku_id=a, kind="return")
        assert [(m.quantity, m.ref) for m in moves] == [(2, "ord_1")]
        assert inventory.audit(s) == []
    # The return went back to where the order shipped from most recently.
    assert atp(db, shop, a, b) == {a: 3, b: 2}


def test_deallocate_part_then_the_rest(db: Database, clock: ManualClock, shop: Shop) -> None:
    a, b = stocked(db, clock, shop, warehouse=2, store=2), stocked(db, clock, shop, store=3)
    with db.transaction() as s:
        hold = inventory.reserve(s, clock, shop.tenant_id, [(a, 4), (b, 3)], "chk_1", TTL)
        inventory.allocate(s, clock, shop.tenant_id, hold, {a: "ord_1", b: "ord_1"})
        inventory.deallocate(s, clock, shop.tenant_id, "ord_1", [(a, 3), (b, 1)])
        assert inventory.available_to_promise(s, shop.tenant_id, [a, b]) == {a: 3, b: 1}
        assert inventory.audit(s) == []
        with pytest.raises(Conflict):
            inventory.deallocate(s, clock, shop.tenant_id, "ord_1", [(a, 2)])
        inventory.deallocate(s, clock, shop.tenant_id, "ord_1")
        inventory.deallocate(s, clock, shop.tenant_id, "ord_1")
        assert inventory.available_to_promise(s, shop.tenant_id, [a, b]) == {a: 4, b: 3}
        assert inventory.audit(s) == []
        with pytest.raises(Conflict):
            inventory.ship(s, clock, shop.tenant_id, "ord_9")


def test_release_gives_units_back_and_is_idempotent(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = stocked(db, clock, shop, warehouse=2)
    with db.transaction() as s:
        hold = inventory.reserve(s, clock, shop.tenant_id, [(item, 2)], "chk_1", TTL)
        inventory.release(s, clock, shop.tenant_id, hold)
        inventory.release(s, clock, shop.tenant_id, hold)
        assert inventory.get_hold(s, shop.tenant_id, hold).status == "released"
        with pytest.raises(Conflict):
            inventory.allocate(s, clock, shop.tenant_id, hold, {item: "ord_1"})
    assert atp(db, shop, item) == {item: 2}


@pytest.mark.parametrize("expired_holds", [False, True])
def test_reserve_uses_as_many_statements_for_twenty_lines_as_for_one(
    db: Database, clock: ManualClock, shop: Shop, expired_holds: bool
) -> None:
    items = [stocked(db, clock, shop, warehouse=5, store=5) for _ in range(21)]
    if expired_holds:
        with db.transaction() as s:
            inventory.reserve(s, clock, shop.tenant_id, [(i, 1) for i in items], "old", TTL)
        clock.advance(minutes=20)
    counts = []
    for lines in ([(items[0], 7)], [(i, 7) for i in items[1:]]):
        with db.transaction() as s:
            with recorded_statements(db, begin=False) as statements:
                inventory.reserve(s, clock, shop.tenant_id, lines, "chk", TTL)
            counts.append(len(statements))
            assert inventory.audit(s) == []
    assert counts[0] == counts[1] == (5 if expired_holds else 4)


def test_allocate_uses_four_statements_for_any_number_of_lines(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    items = [stocked(db, clock, shop, warehouse=5, store=5) for _ in range(21)]
    counts = []
    for chosen in (items[:1], items[1:]):
        with db.transaction() as s:
            hold = inventory.reserve(s, clock, shop.tenant_id, [(i, 7) for i in chosen], "c", TTL)
        with db.transaction() as s:
            with recorded_statements(db, begin=False) as statements:
                inventory.allocate(s, clock, shop.tenant_id, hold, dict.fromkeys(chosen, "ord"))
            counts.append(len(statements))
            assert inventory.audit(s) == []
    assert counts == [4, 4]
