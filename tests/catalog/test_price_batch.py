"""Setting many prices at once: all or none, and a fixed number of statements however many."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from retailos.catalog import service
from retailos.catalog.service import PriceChange
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from tests.catalog.helpers import stock_shelf, tenant
from tests.conftest import Actor, recorded_statements

BASE = "/v1/catalog"


def shelf(client: TestClient, actor: Actor, n: int) -> list[str]:
    body = {"title": "Tea", "variants": [
        {"sku": f"TEA-{i}", "prices": [{"currency": "USD", "amount": 100}]} for i in range(n)]}
    r = client.post(f"{BASE}/products", json=body, headers=actor.headers)
    assert r.status_code == 201, r.text
    return [v["id"] for v in r.json()["variants"]]


def prices_of(client: TestClient, actor: Actor, vid: str) -> dict[str, int]:
    variant = client.get(f"{BASE}/variants/{vid}", headers=actor.headers).json()
    return {p["currency"]: p["amount"] for p in variant["prices"]}


def test_batch_creates_changes_and_skips_in_one_call(client: TestClient, retailer: Actor) -> None:
    a, b = shelf(client, retailer, 2)
    body: dict[str, Any] = {"prices": [
        {"variant_id": a, "currency": "USD", "amount": 100},
        {"variant_id": a, "currency": "EUR", "amount": 95},
        {"variant_id": b, "currency": "USD", "amount": 120},
    ]}
    r = client.post(f"{BASE}/prices", json=body, headers=retailer.headers)
    assert r.status_code == 200
    assert r.json() == {"created": 1, "updated": 1, "unchanged": 1}
    assert prices_of(client, retailer, a) == {"EUR": 95, "USD": 100}
    assert prices_of(client, retailer, b) == {"USD": 120}


def test_one_bad_row_rejects_the_whole_batch(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor]
) -> None:
    [mine] = shelf(client, retailer, 1)
    [theirs] = shelf(client, make_actor("retailer"), 1)
    for bad_row, field in [
        ({"variant_id": theirs, "currency": "USD", "amount": 1}, "prices.1.variant_id"),
        ({"variant_id": "sku_nope", "currency": "USD", "amount": 1}, "prices.1.variant_id"),
        ({"variant_id": mine, "currency": "USD", "amount": 7}, "prices.1"),
    ]:
        body = {"prices": [{"variant_id": mine, "currency": "USD", "amount": 555}, bad_row]}
        r = client.post(f"{BASE}/prices", json=body, headers=retailer.headers)
        assert r.status_code == 422, bad_row
        assert r.json()["field"] == field
    assert prices_of(client, retailer, mine) == {"USD": 100}


def test_statements_do_not_grow_with_the_batch(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        tid = tenant(s, clock, "A")
        ids = stock_shelf(s, clock, tid, 40)
    counts = []
    for size, new_currency in ((4, "EUR"), (40, "GBP")):
        changes = [PriceChange(v, c, size) for v in ids[:size] for c in ("USD", new_currency)]
        with db.transaction() as s, recorded_statements(db, begin=False) as statements:
            result = service.set_prices(s, clock, tid, changes)
        assert (result.created, result.updated) == (size, size)
        counts.append(len(statements))
    assert counts[0] == counts[1]
