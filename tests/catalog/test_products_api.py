"""Products, variants and prices over HTTP: create, read, update, archive, filter, search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from retailos.catalog.package_size import unit_weight_grams
from tests.conftest import Actor

PROBLEM = "application/problem+json"
BASE = "/v1/catalog"


def product_body(sku: str = "APL-1", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Apple Sauce",
        "brand": "Orchard",
        "variants": [{
            "sku": sku, "gtin": "4006381333931", "package_size": "50 OZ",
            "prices": [{"currency": "USD", "amount": 349}, {"currency": "EUR", "amount": 329}],
        }],
    }
    body.update(over)
    return body


def create(client: TestClient, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"{BASE}/products", json=body, headers=actor.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_product_is_created_with_variants_and_prices_in_one_call(
    client: TestClient, retailer: Actor
) -> None:
    product = create(client, retailer, product_body())
    assert product["id"].startswith("prod_")
    assert product["status"] == "active"
    [variant] = product["variants"]
    assert variant["id"].startswith("sku_")
    assert variant["sku"] == "APL-1"
    assert variant["gtin"] == "4006381333931"
    assert variant["unit_weight_g"] == round(unit_weight_grams("50 OZ") or 0)  # estimated
    assert variant["prices"] == [{"currency": "EUR", "amount": 329},
                                 {"currency": "USD", "amount": 349}]
    got = client.get(f"{BASE}/products/{product['id']}", headers=retailer.headers)
    assert got.status_code == 200
    assert got.json() == product


def test_given_weight_wins_over_the_package_size_estimate(
    client: TestClient, retailer: Actor
) -> None:
    body = product_body()
    body["variants"][0]["unit_weight_g"] = 1500
    assert create(client, retailer, body)["variants"][0]["unit_weight_g"] == 1500


@pytest.mark.parametrize("gtin", ["4006381333931", "036000291452", "96385074", "10036000291459"])
def test_valid_gtins_are_accepted(client: TestClient, retailer: Actor, gtin: str) -> None:
    body = product_body()
    body["variants"][0]["gtin"] = gtin
    assert create(client, retailer, body)["variants"][0]["gtin"] == gtin


@pytest.mark.parametrize(
    ("gtin", "says"),
    [
        ("4006381333932", "bad check digit: 2, expected 1"),
        ("036000291453", "bad check digit: 3, expected 2"),
        ("12345", "8, 12, 13 or 14 digits"),
        ("40063813339A1", "digits only"),
    ],
)
def test_bad_gtin_is_a_422_that_says_why(
    client: TestClient, retailer: Actor, gtin: str, says: str
) -> None:
    body = product_body()
    body["variants"][0]["gtin"] = gtin
    r = client.post(f"{BASE}/products", json=body, headers=retailer.headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:retailos:problem:invalid-input"
    assert says in r.json()["detail"]
    assert len(r.json()["errors"]) == 1


@pytest.mark.parametrize(
    ("variant_change", "field"),
    [
        ({"prices": [{"currency": "XYZ", "amount": 1}]}, "currency"),
        ({"prices": [{"currency": "USD", "amount": -1}]}, "amount"),
        ({"prices": [{"currency": "USD", "amount": 1}, {"currency": "USD", "amount": 2}]},
         "prices"),
        ({"unit_weight_g": 0}, "unit_weight_g"),
        ({"sku": ""}, "sku"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_variant_is_rejected_whole(
    client: TestClient, retailer: Actor, variant_change: dict[str, Any], field: str
) -> None:
    body = product_body()
    body["variants"][0].update(variant_change)
    r = client.post(f"{BASE}/products", json=body, headers=retailer.headers)
    assert r.status_code == 422
    assert field in r.json()["detail"]
    listed = client.get(f"{BASE}/products", headers=retailer.headers).json()
    assert listed["data"] == []


def test_duplicate_sku_in_a_tenant_is_a_409_and_writes_nothing(
    client: TestClient, retailer: Actor
) -> None:
    create(client, retailer, product_body("DUP"))
    body = product_body("DUP", title="Other")
    body["variants"][0]["gtin"] = None
    r = client.post(f"{BASE}/products", json=body, headers=retailer.headers)
    assert r.status_code == 409
    assert r.json()["field"] == "sku"
    titles = [p["title"] for p in client.get(f"{BASE}/products", headers=retailer.headers)
              .json()["data"]]
    assert titles == ["Apple Sauce"]


def test_two_tenants_may_use_the_same_sku(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor]
) -> None:
    other = make_actor("retailer")
    create(client, retailer, product_body("SAME"))
    assert create(client, other, product_body("SAME"))["variants"][0]["sku"] == "SAME"


def test_duplicate_external_ref_is_a_409(client: TestClient, retailer: Actor) -> None:
    mine = create(client, retailer, product_body("A", external_ref="erp:1"))
    found = client.get(f"{BASE}/products?external_ref=erp:1", headers=retailer.headers).json()
    assert [p["id"] for p in found["data"]] == [mine["id"]]
    r = client.post(f"{BASE}/products", json=product_body("B", external_ref="erp:1"),
                    headers=retailer.headers)
    assert r.status_code == 409
    assert r.json()["field"] == "external_ref"


def test_patch_changes_only_the_given_fields(client: TestClient, retailer: Actor) -> None:
    product = create(client, retailer, product_body(description="Smooth"))
    r = client.patch(f"{BASE}/products/{product['id']}",
                     json={"title": "Apple Sauce, Unsweetened", "brand": None},
                     headers=retailer.headers)
    assert r.status_code == 200
    assert r.json()["title"] == "Apple Sauce, Unsweetened"
    assert r.json()["brand"] is None
    assert r.json()["description"] == "Smooth"


def test_patch_rejects_an_empty_title_and_unknown_category(
    client: TestClient, retailer: Actor
) -> None:
    product = create(client, retailer, product_body())
    url = f"{BASE}/products/{product['id']}"
    assert client.patch(url, json={"title": ""}, headers=retailer.headers).status_code == 422
    r = client.patch(url, json={"category_id": "cat_nope"}, headers=retailer.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "category_id"


def test_archive_takes_a_product_off_sale_and_restore_puts_it_back(
    client: TestClient, retailer: Actor
) -> None:
    product = create(client, retailer, product_body())
    archived = client.post(f"{BASE}/products/{product['id']}/archive", headers=retailer.headers)
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    active = client.get(f"{BASE}/products?status=active", headers=retailer.headers).json()
    assert active["data"] == []
    restored = client.post(f"{BASE}/products/{product['id']}/restore", headers=retailer.headers)
    assert restored.json()["status"] == "active"


def test_variant_patch_price_and_archive(client: TestClient, retailer: Actor) -> None:
    product = create(client, retailer, product_body())
    vid = product["variants"][0]["id"]
    url = f"{BASE}/variants/{vid}"
    r = client.patch(url, json={"package_size": "16 OZ", "gtin": None}, headers=retailer.headers)
    assert r.status_code == 200
    assert r.json()["unit_weight_g"] == round(unit_weight_grams("16 OZ") or 0)  # re-estimated
    assert r.json()["gtin"] is None
    r = client.put(f"{url}/prices/GBP", json={"amount": 299}, headers=retailer.headers)
    assert r.status_code == 200
    assert {"currency": "GBP", "amount": 299} in r.json()["prices"]
    r = client.put(f"{url}/prices/USD", json={"amount": 399}, headers=retailer.headers)
    assert {"currency": "USD", "amount": 399} in r.json()["prices"]
    r = client.delete(f"{url}/prices/EUR", headers=retailer.headers)
    assert [p["currency"] for p in r.json()["prices"]] == ["GBP", "USD"]
    assert client.put(f"{url}/prices/XYZ", json={"amount": 1},
                      headers=retailer.headers).status_code == 422
    r = client.post(f"{url}/archive", headers=retailer.headers)
    assert r.json()["status"] == "archived"


def test_variant_patch_bad_gtin_and_taken_sku(client: TestClient, retailer: Actor) -> None:
    first = create(client, retailer, product_body("ONE"))
    body = product_body("TWO")
    body["variants"][0]["gtin"] = None
    second = create(client, retailer, body)
    url = f"{BASE}/variants/{second['variants'][0]['id']}"
    r = client.patch(url, json={"gtin": "4006381333932"}, headers=retailer.headers)
    assert r.status_code == 422
    assert "check digit" in r.json()["detail"]
    r = client.patch(url, json={"sku": "ONE"}, headers=retailer.headers)
    assert r.status_code == 409
    r = client.patch(url, json={"gtin": first["variants"][0]["gtin"]}, headers=retailer.headers)
    assert r.status_code == 409
    assert r.json()["field"] == "gtin"


def test_variant_can_be_added_and_listed_by_product_and_sku(
    client: TestClient, retailer: Actor
) -> None:
    product = create(client, retailer, product_body())
    r = client.post(f"{BASE}/products/{product['id']}/variants",
                    json={"sku": "APL-2", "title": "Family size", "package_size": "2 LB",
                          "prices": [{"currency": "USD", "amount": 599}]},
                    headers=retailer.headers)
    assert r.status_code == 201
    listed = client.get(f"{BASE}/variants?product_id={product['id']}",
                        headers=retailer.headers).json()
    assert sorted(v["sku"] for v in listed["data"]) == ["APL-1", "APL-2"]
    got = client.get(f"{BASE}/products/{product['id']}", headers=retailer.headers).json()
    assert [v["sku"] for v in got["variants"]] == ["APL-1", "APL-2"]  # in the order added
    by_sku = client.get(f"{BASE}/variants?sku=APL-2", headers=retailer.headers).json()
    assert [v["id"] for v in by_sku["data"]] == [r.json()["id"]]


def test_replayed_create_with_idempotency_key_returns_the_first_product(
    client: TestClient, retailer: Actor
) -> None:
    headers = {**retailer.headers, "Idempotency-Key": "create-apple-1"}
    first = client.post(f"{BASE}/products", json=product_body(), headers=headers)
    again = client.post(f"{BASE}/products", json=product_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listed = client.get(f"{BASE}/products", headers=retailer.headers).json()
    assert len(listed["data"]) == 1
    other = client.post(f"{BASE}/products", json=product_body(title="Pear"), headers=headers)
    assert other.status_code == 409
    assert other.json()["type"] == "urn:retailos:problem:idempotency-key-reused"


def test_reader_key_cannot_write(
    client: TestClient, make_actor: Callable[..., Actor]
) -> None:
    reader = make_actor("retailer", scopes=["catalog:read"])
    r = client.post(f"{BASE}/products", json=product_body(), headers=reader.headers)
    assert r.status_code == 403
    assert client.get(f"{BASE}/products", headers=reader.headers).status_code == 200


def test_variants_keep_the_order_they_were_given_in(client: TestClient, retailer: Actor) -> None:
    skus = [f"V{i:02d}" for i in range(12, 0, -1)]
    body = {"title": "Socks", "variants": [{"sku": s} for s in skus]}
    assert [v["sku"] for v in create(client, retailer, body)["variants"]] == skus


def test_null_clears_attributes_but_a_sku_cannot_be_cleared(
    client: TestClient, retailer: Actor
) -> None:
    product = create(client, retailer, product_body(attributes={"organic": True}))
    r = client.patch(f"{BASE}/products/{product['id']}", json={"attributes": None},
                     headers=retailer.headers)
    assert r.status_code == 200
    assert r.json()["attributes"] == {}
    vid = product["variants"][0]["id"]
    r = client.patch(f"{BASE}/variants/{vid}", json={"sku": None}, headers=retailer.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "sku"
