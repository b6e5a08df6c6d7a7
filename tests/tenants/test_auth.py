from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Actor

PROBLEM = "application/problem+json"


def test_request_without_key_gets_401_problem(client: TestClient) -> None:
    r = client.get("/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == "urn:retailos:problem:unauthenticated"


def test_unknown_or_forged_key_gets_401(client: TestClient, retailer: Actor) -> None:
    forged = retailer.token[:-4] + "AAAA"
    for token in ("nonsense", "rk_key_x.y", forged):
        r = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token


def test_key_outside_its_scope_gets_403(
    client: TestClient, make_actor: Callable[..., Actor]
) -> None:
    reader = make_actor("retailer", scopes=["catalog:read"])
    r = client.post("/v1/api-keys", json={"name": "x"}, headers=reader.headers)
    assert r.status_code == 403
    assert r.json()["type"] == "urn:retailos:problem:forbidden"


def test_operator_creates_a_tenant_whose_key_works_once_shown(
    client: TestClient, operator: Actor
) -> None:
    r = client.post("/v1/tenants", json={"kind": "retailer", "name": "Acme"},
                    headers=operator.headers)
    assert r.status_code == 201
    token = r.json()["api_key"]["token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "Acme"
    listed = client.get("/v1/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert "token" not in listed.json()[0]


def test_retailer_cannot_create_tenants_or_see_others(
    client: TestClient, retailer: Actor, operator: Actor
) -> None:
    r = client.post("/v1/tenants", json={"kind": "retailer", "name": "X"},
                    headers=retailer.headers)
    assert r.status_code == 403
    other = client.get(f"/v1/tenants/{operator.tenant_id}", headers=retailer.headers)
    assert other.status_code == 404


def test_revoked_key_stops_working(client: TestClient, retailer: Actor) -> None:
    new = client.post("/v1/api-keys", json={"name": "temp"}, headers=retailer.headers).json()
    headers = {"Authorization": f"Bearer {new['token']}"}
    assert client.get("/v1/me", headers=headers).status_code == 200
    client.post(f"/v1/api-keys/{new['id']}/revoke", headers=retailer.headers)
    assert client.get("/v1/me", headers=headers).status_code == 401
