from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from retailos.catalog import service as catalog
from retailos.catalog.service import VariantDraft
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from tests.conftest import Actor

PROBLEM = "application/problem+json"


@pytest.fixture
def variant(db: Database, clock: ManualClock) -> Callable[[Actor], str]:
    """Makes a catalogue variant of the actor's and returns its id (`sku_...`)."""
    counter = iter(range(1_000_000))

    def make(actor: Actor) -> str:
        with db.transaction() as s:
            product = catalog.create_product(
                s, clock, actor.tenant_id, title="Oat milk",
                variants=[VariantDraft(sku=f"OAT-{next(counter)}")])
            found, _ = catalog.list_variants(s, actor.tenant_id, product_id=product.id)
            return found[0].id

    return make


def location(client: TestClient, actor: Actor, code: str = "WH1", **extra: Any) -> str:
    r = client.post("/v1/inventory/locations", headers=actor.headers,
                    json={"code": code, "name": f"Location {code}", "kind": "warehouse",
                          **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def receive(client: TestClient, actor: Actor, loc: str, item: str, qty: int) -> Any:
    return client.post("/v1/inventory/receipts", headers=actor.headers,
                       json={"location_id": loc, "sku_id": item, "quantity": qty})


def test_locations_are_created_listed_and_read(client: TestClient, retailer: Actor) -> None:
    warehouse = location(client, retailer)
    r = client.post("/v1/inventory/locations", headers=retailer.headers,
                    json={"code": "S-1", "name": "Shelf 1", "kind": "shelf",
                          "parent_id": warehouse})
    shelf = r.json()
    assert (shelf["kind"], shelf["parent_id"]) == ("shelf", warehouse)
    listed = client.get("/v1/inventory/locations", headers=retailer.headers).json()
    assert sorted(x["code"] for x in listed["data"]) == ["S-1", "WH1"]
    got = client.get(f"/v1/inventory/locations/{warehouse}", headers=retailer.headers)
    assert got.json()["code"] == "WH1"
    again = client.post("/v1/inventory/locations", headers=retailer.headers,
                        json={"code": "WH1", "name": "Twice", "kind": "warehouse"})
    assert again.status_code == 409
    bad = client.post("/v1/inventory/locations", headers=retailer.headers,
                      json={"code": "X", "name": "X", "kind": "cupboard"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM


def test_receipts_and_adjustments_change_stock_and_leave_movements(
    client: TestClient, retailer: Actor
, variant: Callable[[Actor], str]) -> None:
    loc, item = location(client, retailer), variant(retailer)
    r = receive(client, retailer, loc, item, 12)
    assert r.status_code == 201
    assert r.json() == {"sku_id": item, "location_id": loc, "on_hand": 12, "reserved": 0,
                        "allocated": 0, "available": 12}
    r = client.post("/v1/inventory/adjustments", headers=retailer.headers,
                    json={"location_id": loc, "sku_id": item, "delta": -2, "reason": "damaged",
                          "reference": "count-7"})
    assert r.json()["on_hand"] == 10
    too_much = client.post("/v1/inventory/adjustments", headers=retailer.headers,
                           json={"location_id": loc, "sku_id": item, "delta": -11,
                                 "reason": "lost"})
    assert too_much.status_code == 409
    assert too_much.json()["on_hand"] == 10
    unknown_reason = client.post("/v1/inventory/adjustments", headers=retailer.headers,
                                 json={"location_id": loc, "sku_id": item, "delta": -1,
                                       "reason": "stolen"})
    assert unknown_reason.status_code == 422
    moves = client.get("/v1/inventory/movements", headers=retailer.headers,
                       params={"sku_id": item}).json()["data"]
    # Ids made in the same millisecond do not sort by time, so compare without order.
    assert sorted((m["kind"], m["quantity"], m["reason"], m["ref"]) for m in moves) == [
        ("adjust", -2, "damaged", "count-7"), ("receive", 12, "received", None)]


def test_a_transfer_moves_units_and_an_impossible_one_is_a_409(
    client: TestClient, retailer: Actor
, variant: Callable[[Actor], str]) -> None:
    a, b, item = location(client, retailer, "A"), location(client, retailer, "B"), variant(retailer)
    receive(client, retailer, a, item, 3)
    body = {"sku_id": item, "from_location_id": a, "to_location_id": b, "quantity": 2}
    r = client.post("/v1/inventory/transfers", headers=retailer.headers, json=body)
    assert r.status_code == 201
    assert (r.json()["source"]["on_hand"], r.json()["destination"]["on_hand"]) == (1, 2)
    r = client.post("/v1/inventory/transfers", headers=retailer.headers, json=body)
    assert r.status_code == 409
    assert r.json()["type"] == "urn:retailos:problem:out-of-stock"
    assert (r.json()["requested"], r.json()["available"]) == (2, 1)


def test_a_replayed_receipt_is_received_once(
    client: TestClient, retailer: Actor, variant: Callable[[Actor], str]
) -> None:
    loc, item = location(client, retailer), variant(retailer)
    headers = {**retailer.headers, "Idempotency-Key": "delivery-1"}
    body = {"location_id": loc, "sku_id": item, "quantity": 5}
    first = client.post("/v1/inventory/receipts", headers=headers, json=body)
    again = client.post("/v1/inventory/receipts", headers=headers, json=body)
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json() == again.json()
    r = client.get("/v1/inventory/availability", headers=retailer.headers,
                   params={"sku_id": item})
    assert r.json()["data"] == [{"sku_id": item, "available": 5}]


def test_stock_pages_by_cursor_and_filters(
    client: TestClient, retailer: Actor, variant: Callable[[Actor], str]
) -> None:
    a, b = location(client, retailer, "A"), location(client, retailer, "B")
    items = [variant(retailer) for _ in range(3)]
    for item in items:
        receive(client, retailer, a, item, 1)
    receive(client, retailer, b, items[0], 4)
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/inventory/stock", headers=retailer.headers, params=params).json()
        seen += [(row["sku_id"], row["location_id"]) for row in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4
    at_b = client.get("/v1/inventory/stock", headers=retailer.headers,
                      params={"location_id": b}).json()["data"]
    assert [(row["sku_id"], row["on_hand"]) for row in at_b] == [(items[0], 4)]
    availability = client.get("/v1/inventory/availability", headers=retailer.headers,
                              params=[("sku_id", items[0]), ("sku_id", items[1])]).json()
    assert availability["data"] == [{"sku_id": items[0], "available": 5},
                                    {"sku_id": items[1], "available": 1}]
    at_a = client.get("/v1/inventory/availability", headers=retailer.headers,
                      params={"sku_id": items[0], "location_id": a}).json()
    assert at_a == {"location_id": a, "data": [{"sku_id": items[0], "available": 1}]}
    bad = client.get("/v1/inventory/stock", headers=retailer.headers,
                     params={"cursor": "nonsense!"})
    assert bad.status_code == 422


def test_another_tenants_locations_and_stock_are_invisible(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor]
, variant: Callable[[Actor], str]) -> None:
    other = make_actor("retailer")
    loc, item = location(client, retailer), variant(retailer)
    receive(client, retailer, loc, item, 7)
    assert client.get(f"/v1/inventory/locations/{loc}", headers=other.headers).status_code == 404
    assert client.get("/v1/inventory/locations", headers=other.headers).json()["data"] == []
    assert receive(client, other, loc, item, 1).status_code == 404
    # Nor may another tenant stock my SKU at its own location, or anyone an unknown SKU.
    theirs = location(client, other)
    assert receive(client, other, theirs, item, 1).status_code == 404
    unknown = receive(client, retailer, loc, "sku_" + "0" * 26, 1)
    assert unknown.status_code == 404
    adjusted = client.post("/v1/inventory/adjustments", headers=other.headers,
                           json={"location_id": loc, "sku_id": item, "delta": -1,
                                 "reason": "lost"})
    assert adjusted.status_code == 404
    for path in ("/v1/inventory/stock", "/v1/inventory/movements"):
        r = client.get(path, headers=other.headers, params={"sku_id": item})
        assert r.json()["data"] == [], path
    r = client.get("/v1/inventory/availability", headers=other.headers, params={"sku_id": item})
    assert r.json()["data"] == [{"sku_id": item, "available": 0}]
    r = client.get("/v1/inventory/availability", headers=other.headers,
                   params={"sku_id": item, "location_id": loc})
    assert r.status_code == 404
    mine = client.get("/v1/inventory/availability", headers=retailer.headers,
                      params={"sku_id": item})
    assert mine.json()["data"] == [{"sku_id": item, "available": 7}]


def test_a_read_only_key_cannot_receive(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor]
) -> None:
    reader = make_actor("retailer", scopes=["inventory:read"])
    r = client.post("/v1/inventory/locations", headers=reader.headers,
                    json={"code": "X", "name": "X", "kind": "store"})
    assert r.status_code == 403
    assert client.get("/v1/inventory/stock", headers=reader.headers).status_code == 200
    assert client.get("/v1/inventory/stock").status_code == 401
