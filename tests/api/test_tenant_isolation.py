"""Every endpoint, called with the keys of every other tenant kind, never shows or changes one
tenant's data. The walk is generic over the OpenAPI document, so new endpoints are covered."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.world import seed_world
from tests.conftest import Actor

ID = re.compile(r"\b[a-z]{2,6}_[0-9A-HJKMNP-TV-Z]{26}\b")
PARAM = re.compile(r"\{[^}]+\}")
SKIP = {"/health", "/metrics", "/v1/payments/provider-events"}


def ids_in(payload: Any) -> set[str]:
    return set(ID.findall(json.dumps(payload)))


def operations(client: TestClient) -> list[tuple[str, str]]:
    doc = client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, ops in doc["paths"].items() if path not in SKIP
        for method in ops if method in ("get", "post", "put", "patch", "delete")
    ]


def snapshot(client: TestClient, owner: Actor, ops: list[tuple[str, str]],
             owned: set[str]) -> dict[str, Any]:
    """What the owner sees through every GET: lists, and each of its resources by id."""
    seen: dict[str, Any] = {}
    for method, path in ops:
        if method != "GET":
            continue
        if not PARAM.search(path):
            r = client.get(path, headers=owner.headers)
            seen[path] = (r.status_code, r.json() if r.status_code == 200 else None)
            continue
        for rid in owned:
            concrete = PARAM.sub(rid, path, count=1)
            if PARAM.search(concrete):
                continue
            r = client.get(concrete, headers=owner.headers)
            if r.status_code == 200:
                seen[concrete] = r.json()
    return seen


@pytest.fixture
def world(client: TestClient, make_actor: Callable[..., Actor]) -> dict[str, Actor]:
    return seed_world(client, make_actor)


def test_no_tenant_reads_or_changes_another_tenants_data(
    client: TestClient, world: dict[str, Actor], make_actor: Callable[..., Actor]
) -> None:
    owner = world["owner"]
    ops = operations(client)
    owned: set[str] = set()
    for method, path in ops:
        if method == "GET" and not PARAM.search(path):
            r = client.get(path, headers=owner.headers)
            if r.status_code == 200:
                owned |= ids_in(r.json())
    owned.discard(owner.tenant_id)
    assert len({i.split("_")[0] for i in owned}) >= 5, f"seed too thin: {sorted(owned)}"
    before = snapshot(client, owner, ops, owned)

    strangers = [make_actor(kind) for kind in ("retailer", "seller", "partner_store")]
    for stranger in strangers:
        for method, path in ops:
            targets = [path] if not PARAM.search(path) else [
                PARAM.sub(rid, path) for rid in owned
            ]
            for target in targets:
                r = client.request(method, target, headers=stranger.headers,
                                   json={} if method in ("POST", "PUT", "PATCH") else None)
                echoed = set(ID.findall(target))  # a 404 may name the id it was asked for
                leaked = (ids_in(r.json()) & owned) - echoed if r.content else set()
                assert not leaked, f"{stranger.kind} {method} {target} leaked {leaked}"
                if method == "GET" and PARAM.search(path):
                    assert r.status_code in (403, 404, 422), (
                        f"{stranger.kind} GET {target} -> {r.status_code}")

    assert snapshot(client, owner, ops, owned) == before
