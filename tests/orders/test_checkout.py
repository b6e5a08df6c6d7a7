from __future__ import annotations

from fastapi.testclient import TestClient

from retailos.core.db import Database
from tests.orders.conftest import Store, available, counts, place


def test_one_shot_checkout_places_a_paid_group_with_one_order_for_the_store(
    client: TestClient, db: Database, store: Store
) -> None:
    r = place(client, store, 2, 1)
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["total"] == 2 * 100 + 1 * 200
    assert [o["seller_id"] for o in group["orders"]] == [store.tenant_id]
    assert group["orders"][0]["status"] == "paid"
    assert group["payment"]["status"] == "captured"
    assert available(db, store, store.skus[:2]) == {store.skus[0]: 8, store.skus[1]: 9}
    assert counts(db, store.tenant_id)["orders"] == 1
