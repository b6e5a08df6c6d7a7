"""Categories, filters, search and pagination; and one tenant never sees another's catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Actor

BASE = "/v1/catalog"


def post(client: TestClient, actor: Actor, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"{BASE}{path}", json=body, headers=actor.headers)
    assert r.status_code == 201, r.text
    return r.json()


def product(client: TestClient, actor: Actor, sku: str, title: str, brand: str | None = None,
            category_id: str | None = None) -> dict[str, Any]:
    return post(client, actor, "/products", {
        "title": title, "brand": brand, "category_id": category_id,
        "variants": [{"sku": sku, "prices": [{"currency": "USD", "amount": 100}]}],
    })


def listed(client: TestClient, actor: Actor, query: str = "") -> list[str]:
    r = client.get(f"{BASE}/products?{query}", headers=actor.headers)
    assert r.status_code == 200, r.text
    return [p["title"] for p in r.json()["data"]]


@pytest.fixture
def shelf(client: TestClient, retailer: Actor) -> dict[str, str]:
    """Grocery > Dairy > Milk and Grocery > Bakery, with four products."""
    grocery = post(client, retailer, "/categories", {"code": "grocery", "name": "Grocery"})
    dairy = post(client, retailer, "/categories",
                 {"code": "grocery/dairy", "name": "Dairy", "parent_id": grocery["id"]})
    milk = post(client, retailer, "/categories",
                {"code": "grocery/dairy/milk", "name": "Milk", "parent_id": dairy["id"]})
    bakery = post(client, retailer, "/categories",
                  {"code": "grocery/bakery", "name": "Bakery", "parent_id": grocery["id"]})
    product(client, retailer, "MLK-1", "Whole Milk 1 GAL", "Meadow", milk["id"])
    product(client, retailer, "MLK-2", "Skim Milk 1/2 GAL", "Private", milk["id"])
    product(client, retailer, "YOG-1", "Greek Yogurt 100%", "Meadow", dairy["id"])
    product(client, retailer, "BRD-1", "Sourdough Bread", "Private", bakery["id"])
    return {"grocery": grocery["id"], "dairy": dairy["id"], "milk": milk["id"],
            "bakery": bakery["id"]}


def test_category_filter_includes_subcategories(
    client: TestClient, retailer: Actor, shelf: dict[str, str]
) -> None:
    assert sorted(listed(client, retailer, f"category_id={shelf['milk']}")) == [
        "Skim Milk 1/2 GAL", "Whole Milk 1 GAL"]
    assert sorted(listed(client, retailer, f"category_id={shelf['dairy']}")) == [
        "Greek Yogurt 100%", "Skim Milk 1/2 GAL", "Whole Milk 1 GAL"]
    assert len(listed(client, retailer, f"category_id={shelf['grocery']}")) == 4


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("q=milk", ["Whole Milk 1 GAL", "Skim Milk 1/2 GAL"]),
        ("q=MILK+gal", ["Whole Milk 1 GAL", "Skim Milk 1/2 GAL"]),
        ("q=skim+milk", ["Skim Milk 1/2 GAL"]),
        ("q=meadow", ["Whole Milk 1 GAL", "Greek Yogurt 100%"]),
        ("q=brd-1", ["Sourdough Bread"]),
        ("q=100%25", ["Greek Yogurt 100%"]),
        ("q=_", []),
        ("q=cheese", []),
        ("brand=Private", ["Skim Milk 1/2 GAL", "Sourdough Bread"]),
        ("brand=Private&q=bread", ["Sourdough Bread"]),
    ],
)
def test_search_matches_title_brand_and_sku_by_every_word(
    client: TestClient, retailer: Actor, shelf: dict[str, str], query: str, titles: list[str]
) -> None:
    assert sorted(listed(client, retailer, query)) == sorted(titles)


def test_pages_follow_the_cursor_to_the_end_without_repeats(
    client: TestClient, retailer: Actor, shelf: dict[str, str]
) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{BASE}/products?{query}", headers=retailer.headers).json()
        seen += [p["title"] for p in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == listed(client, retailer)
    assert len(seen) == 4


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "cursor=%21%21", "status=deleted"])
def test_bad_list_parameters_are_422(
    client: TestClient, retailer: Actor, query: str
) -> None:
    r = client.get(f"{BASE}/products?{query}", headers=retailer.headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_categories_list_get_and_reject_bad_parents(
    client: TestClient, retailer: Actor, shelf: dict[str, str]
) -> None:
    children = client.get(f"{BASE}/categories?parent_id={shelf['grocery']}",
                          headers=retailer.headers).json()
    assert sorted(c["code"] for c in children["data"]) == ["grocery/bakery", "grocery/dairy"]
    by_code = client.get(f"{BASE}/categories?code=grocery/dairy/milk",
                         headers=retailer.headers).json()
    assert [c["id"] for c in by_code["data"]] == [shelf["milk"]]
    one = client.get(f"{BASE}/categories/{shelf['milk']}", headers=retailer.headers).json()
    assert one["parent_id"] == shelf["dairy"]
    dup = client.post(f"{BASE}/categories", json={"code": "grocery", "name": "Again"},
                      headers=retailer.headers)
    assert dup.status_code == 409
    orphan = client.post(f"{BASE}/categories",
                         json={"code": "x", "name": "X", "parent_id": "cat_nope"},
                         headers=retailer.headers)
    assert orphan.status_code == 422
    assert orphan.json()["field"] == "parent_id"


def test_another_tenant_cannot_read_change_or_archive_a_product(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor],
    shelf: dict[str, str],
) -> None:
    intruder = make_actor("retailer", "Intruder")
    mine = client.get(f"{BASE}/products", headers=retailer.headers).json()["data"][0]
    vid = mine["variants"][0]["id"]
    h = intruder.headers
    attempts = [
        client.get(f"{BASE}/products/{mine['id']}", headers=h),
        client.patch(f"{BASE}/products/{mine['id']}", json={"title": "Mine"}, headers=h),
        client.post(f"{BASE}/products/{mine['id']}/archive", headers=h),
        client.post(f"{BASE}/products/{mine['id']}/restore", headers=h),
        client.post(f"{BASE}/products/{mine['id']}/variants", json={"sku": "X"}, headers=h),
        client.get(f"{BASE}/variants/{vid}", headers=h),
        client.patch(f"{BASE}/variants/{vid}", json={"sku": "Y"}, headers=h),
        client.post(f"{BASE}/variants/{vid}/archive", headers=h),
        client.put(f"{BASE}/variants/{vid}/prices/USD", json={"amount": 1}, headers=h),
        client.delete(f"{BASE}/variants/{vid}/prices/USD", headers=h),
        client.get(f"{BASE}/categories/{shelf['milk']}", headers=h),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert all(r.json()["type"] == "urn:retailos:problem:not-found" for r in attempts)
    again = client.get(f"{BASE}/products/{mine['id']}", headers=retailer.headers).json()
    assert again == mine


def test_lists_never_show_another_tenants_rows(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor],
    shelf: dict[str, str],
) -> None:
    intruder = make_actor("retailer", "Intruder")
    h = intruder.headers
    assert client.get(f"{BASE}/products", headers=h).json()["data"] == []
    assert client.get(f"{BASE}/products?q=milk", headers=h).json()["data"] == []
    assert client.get(f"{BASE}/products?category_id={shelf['grocery']}",
                      headers=h).json()["data"] == []
    assert client.get(f"{BASE}/variants", headers=h).json()["data"] == []
    assert client.get(f"{BASE}/variants?sku=MLK-1", headers=h).json()["data"] == []
    assert client.get(f"{BASE}/categories", headers=h).json()["data"] == []


def test_another_tenants_category_cannot_be_used(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor],
    shelf: dict[str, str],
) -> None:
    intruder = make_actor("retailer", "Intruder")
    r = client.post(f"{BASE}/products", json={"title": "X", "category_id": shelf["milk"]},
                    headers=intruder.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "category_id"
