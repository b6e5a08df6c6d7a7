from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from retailos.core.db import Database
from retailos.ledger import service as ledger
from retailos.orders.shopper import Shopper, ShopperConfig
from tests.orders.conftest import Store, counts


def test_shoppers_place_cancel_and_return_orders_and_skip_what_the_store_does_not_sell(
    client: TestClient, db: Database, store: Store
) -> None:
    baskets = [[("SKU0000", 1), ("SKU0001", 2), ("4000000", 1)], [("4000001", 1)],
               [("SKU0002", 1)]] * 4
    config = ShopperConfig(rate=1000, limit=100, cancel_rate=0.3, return_rate=0.4,
                           decline_rate=0.1, seed=3)
    shopper = Shopper(client, store.actor.token, baskets, config)

    stats = shopper.run(threading.Event())

    assert stats.skipped_baskets == 4
    assert stats.placed + stats.declined + stats.out_of_stock == 8
    assert stats.errors == 0
    assert stats.placed > 0 and stats.cancelled + stats.returned > 0
    assert counts(db, store.tenant_id)["groups"] == stats.placed
    with db.transaction() as s:
        assert ledger.check(s) == []


def test_a_stopped_shopper_places_nothing(client: TestClient, db: Database,
                                         store: Store) -> None:
    stop = threading.Event()
    stop.set()
    Shopper(client, store.actor.token, [[("SKU0000", 1)]], ShopperConfig()).run(stop)
    assert counts(db, store.tenant_id)["groups"] == 0
