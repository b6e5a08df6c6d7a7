"""A tenant with one of everything, made through the HTTP API, for cross-tenant tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Actor


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    body: dict[str, Any] = response.json()
    return body


def seed_world(client: TestClient, make_actor: Callable[..., Actor]) -> dict[str, Actor]:
    """The owner's catalogue, stock, orders (paid, cancelled, returned), payments, refunds,
    ledger entries, usage and a webhook subscription with a delivery."""
    owner = make_actor("retailer", "Owner Foods")
    h = owner.headers
    category = _ok(client.post("/v1/catalog/categories", headers=h,
                               json={"code": "pantry", "name": "Pantry"}))
    product = _ok(client.post("/v1/catalog/products", headers=h, json={
        "title": "Oat milk", "brand": "Owner", "category_id": category["id"],
        "variants": [{"sku": "OAT-1", "unit_weight_g": 1050,
                      "prices": [{"currency": "USD", "amount": 349}]},
                     {"sku": "OAT-2", "unit_weight_g": 2100,
                      "prices": [{"currency": "USD", "amount": 649}]}],
    }))
    skus = [v["id"] for v in product["variants"]]
    location = _ok(client.post("/v1/inventory/locations", headers=h,
                               json={"code": "wh", "name": "Warehouse", "kind": "warehouse"}))
    for sku in skus:
        _ok(client.post("/v1/inventory/receipts", headers=h,
                        json={"location_id": location["id"], "sku_id": sku, "quantity": 30}))
    _ok(client.post("/v1/webhooks/subscriptions", headers=h,
                    json={"url": "http://127.0.0.1:9/hooks", "event_types": ["order.*"]}))
    cart = _ok(client.post("/v1/carts", headers=h, json={"currency": "USD"}))
    _ok(client.post(f"/v1/carts/{cart['id']}/lines", headers=h,
                    json={"sku_id": skus[0], "quantity": 1}))

    def checkout(qty: int) -> dict[str, Any]:
        return _ok(client.post("/v1/checkouts", headers=h, json={
            "currency": "USD", "customer": {"email": "shopper@example.com"},
            "payment": {"card_number": "4242424242424242"},
            "lines": [{"sku_id": skus[0], "quantity": qty}, {"sku_id": skus[1], "quantity": 1}],
        }))

    kept, cancelled, returned = checkout(1), checkout(2), checkout(3)
    _ok(client.post(f"/v1/orders/{cancelled['orders'][0]['id']}/cancel", headers=h, json={}))
    order = returned["orders"][0]["id"]
    for step in ("fulfil", "ship", "deliver"):
        _ok(client.post(f"/v1/orders/{order}/{step}", headers=h, json={}))
    _ok(client.post(f"/v1/orders/{order}/returns", headers=h, json={
        "lines": [{"sku_id": skus[0], "quantity": 1}], "reason": "damaged"}))
    assert kept["orders"]
    return {"owner": owner}
