"""200 shoppers check out at once through the HTTP API, racing for the last 50 units."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from retailos.core.db import Database
from tests.conftest import Actor, LiveServer
from tests.e2e.store import stock_a_store

BUYERS = 200
UNITS = 50


def test_two_hundred_buyers_race_for_fifty_units(
    live_server: LiveServer, db: Database, make_actor: Callable[..., Actor]
) -> None:
    from retailos.inventory import service as inventory
    from retailos.ledger import service as ledger

    store_owner = make_actor("retailer")
    store = stock_a_store(db, store_owner.tenant_id, skus=1, units=UNITS)
    sku = store.sku_ids[0]
    start = threading.Barrier(BUYERS)

    def buy(i: int) -> httpx.Response:
        body = {"currency": "USD", "customer": {"email": f"buyer{i}@example.com"},
                "payment": {"card_number": "4242424242424242"},
                "lines": [{"sku_id": sku, "quantity": 1}]}
        headers = {**store_owner.headers, "Idempotency-Key": f"race-{i}"}
        start.wait()
        return httpx.post(f"{live_server.url}/v1/checkouts", json=body, headers=headers,
                          timeout=120)

    with ThreadPoolExecutor(BUYERS) as pool:
        responses = list(pool.map(buy, range(BUYERS)))

    codes = Counter(r.status_code for r in responses)
    assert codes == {201: UNITS, 409: BUYERS - UNITS}, codes
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["type"] == "urn:retailos:problem:out-of-stock"
    with db.transaction() as s:
        level = inventory.available_to_promise(s, store_owner.tenant_id, [sku])
        assert level[sku] == 0
        assert inventory.audit(s, store_owner.tenant_id) == []
        assert ledger.check(s) == []
