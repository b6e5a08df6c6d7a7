from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Conflict, InvalidInput, NotFound, OutOfStock
from retailos.inventory import service as inventory
from retailos.inventory.service import StockLevel
from tests.inventory.conftest import Shop, sku


def test_receiving_adds_on_hand_and_records_a_movement(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 10, ref="po_1")
        level = inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 5)
    assert level == StockLevel(item, shop.warehouse, 15, 0, 0, 15)
    with db.transaction() as s:
        moves, _ = inventory.list_movements(s, shop.tenant_id, sku_id=item)
    # Ids made in the same millisecond do not sort by time, so compare without order.
    assert sorted((m.kind, m.quantity, m.reason, m.ref) for m in moves) == [
        ("receive", 5, "received", None), ("receive", 10, "received", "po_1"),
    ]


def test_adjustments_carry_reason_codes_and_cannot_dip_into_held_units(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 10)
        inventory.reserve(s, clock, shop.tenant_id, [(item, 6)], "chk_1", timedelta(minutes=5))
        level = inventory.adjust(s, clock, shop.tenant_id, shop.warehouse, item, -3, "damaged")
    assert level == StockLevel(item, shop.warehouse, 7, 6, 0, 1)
    with pytest.raises(Conflict) as caught, db.transaction() as s:
        inventory.adjust(s, clock, shop.tenant_id, shop.warehouse, item, -2, "lost")
    assert caught.value.extensions["on_hand"] == 7
    assert caught.value.extensions["reserved"] == 6
    with db.transaction() as s:
        found = inventory.adjust(s, clock, shop.tenant_id, shop.warehouse, item, 4, "found")
        moves, _ = inventory.list_movements(s, shop.tenant_id, sku_id=item, kind="adjust")
    assert found.on_hand == 11
    assert sorted((m.quantity, m.reason) for m in moves) == [(-3, "damaged"), (4, "found")]


@pytest.mark.parametrize(("delta", "reason"), [(0, "damaged"), (-1, "stolen"), (2, "")])
def test_bad_adjustments_are_refused(
    db: Database, clock: ManualClock, shop: Shop, delta: int, reason: str
) -> None:
    with pytest.raises(InvalidInput), db.transaction() as s:
        inventory.adjust(s, clock, shop.tenant_id, shop.warehouse, sku(), delta, reason)


def test_another_tenants_location_is_not_found(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    from tests.inventory.conftest import make_shop

    other = make_shop(db, clock)
    with pytest.raises(NotFound), db.transaction() as s:
        inventory.receive(s, clock, other.tenant_id, shop.warehouse, sku(), 1)


def test_receive_many_loads_many_skus_with_one_movement_each(
    db: Database, clock: ManualClock, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "_CHUNK", 1_000)  # so that the test crosses chunks
    quantities = {k: n + 1 for n, k in enumerate(shop.skus(2_500))}
    with db.transaction() as s:
        assert inventory.receive_many(s, clock, shop.tenant_id, shop.store, quantities) == 2_500
        assert inventory.receive_many(s, clock, shop.tenant_id, shop.store, {}) == 0
    with db.transaction() as s:
        picked = list(quantities)[::400]
        assert inventory.available_to_promise(s, shop.tenant_id, picked) == {
            k: quantities[k] for k in picked
        }
        assert inventory.audit(s, shop.tenant_id) == []


def test_audit_finds_a_tampered_stock_row(db: Database, clock: ManualClock, shop: Shop) -> None:
    item, other = shop.skus(2)
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 4)
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, other, 4)
        assert inventory.audit(s) == []
        s.execute(text("UPDATE inventory_stock SET on_hand = on_hand + 3, reserved = 1 "
                       "WHERE sku_id = :sku"), {"sku": item})
    with db.transaction() as s:
        found = inventory.audit(s, shop.tenant_id)
    assert len(found) == 2
    assert "on_hand 7 but movements sum to 4" in found[0]
    assert "reserved 1 but open holds total 0" in found[1]


def test_locations_nest_and_codes_are_unique_per_tenant(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    with db.transaction() as s:
        shelf = inventory.create_location(s, clock, shop.tenant_id, "A-1", "Aisle 1", "shelf",
                                          parent_id=shop.store)
        assert shelf.parent_id == shop.store
    with pytest.raises(Conflict), db.transaction() as s:
        inventory.create_location(s, clock, shop.tenant_id, "A-1", "Again", "shelf")
    with pytest.raises(InvalidInput), db.transaction() as s:
        inventory.create_location(s, clock, shop.tenant_id, "B-1", "Bin", "bin")
    with db.transaction() as s:
        found, _ = inventory.list_locations(s, shop.tenant_id, kind="shelf")
        by_code = inventory.find_location(s, shop.tenant_id, "A-1")
        assert inventory.find_location(s, shop.tenant_id, "Z-9") is None
    assert [loc.code for loc in found] == ["A-1"]
    assert by_code is not None and by_code.id == found[0].id


def test_transfer_moves_only_available_units_between_locations(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 6)
        inventory.reserve(s, clock, shop.tenant_id, [(item, 2)], "chk_1", timedelta(minutes=5))
        source, destination = inventory.transfer(s, clock, shop.tenant_id, item, shop.warehouse,
                                                 shop.store, 4, ref="tr_1")
        assert (source.on_hand, source.reserved, source.available) == (2, 2, 0)
        assert destination == StockLevel(item, shop.store, 4, 0, 0, 4)
        with pytest.raises(OutOfStock):
            inventory.transfer(s, clock, shop.tenant_id, item, shop.warehouse, shop.store, 1)
        moves, _ = inventory.list_movements(s, shop.tenant_id, sku_id=item, kind="transfer")
        assert sorted((m.quantity, m.location_id) for m in moves) == [
            (-4, shop.warehouse), (4, shop.store)]
        assert inventory.audit(s) == []


def test_stock_changes_without_an_order_are_published_to_the_outbox(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    from retailos.core.outbox import OutboxEvent

    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, item, 5, ref="po_9")
        inventory.adjust(s, clock, shop.tenant_id, shop.warehouse, item, -1, "damaged")
        with pytest.raises(Conflict):
            inventory.adjust(s, clock, shop.tenant_id, shop.warehouse, item, -9, "lost")
        inventory.transfer(s, clock, shop.tenant_id, item, shop.warehouse, shop.store, 2)
    with db.transaction() as s:
        published = s.execute(
            select(OutboxEvent.type, OutboxEvent.payload)
            .where(OutboxEvent.tenant_id == shop.tenant_id,
                   OutboxEvent.type.startswith("inventory."))).all()
    assert sorted((t, p["quantity"]) for t, p in published) == [
        ("inventory.stock.adjusted", -1), ("inventory.stock.received", 5),
        ("inventory.stock.transferred", 2)]


def test_only_the_owners_catalogue_variants_can_be_stocked(
    db: Database, clock: ManualClock, shop: Shop
) -> None:
    from tests.inventory.conftest import make_shop

    theirs = make_shop(db, clock).sku()
    with pytest.raises(NotFound) as caught, db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.warehouse, theirs, 1)
    assert caught.value.extensions == {"sku_id": theirs, "unknown": 1}
    mine = shop.sku()
    with pytest.raises(NotFound), db.transaction() as s:
        inventory.receive_many(s, clock, shop.tenant_id, shop.warehouse, {mine: 1, sku(): 2})
    with db.transaction() as s:
        assert inventory.available_to_promise(s, shop.tenant_id, [mine, theirs]) == {
            mine: 0, theirs: 0}
