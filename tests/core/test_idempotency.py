from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Actor


def test_replay_returns_the_first_result_without_acting_again(
    client: TestClient, retailer: Actor
) -> None:
    headers = {**retailer.headers, "Idempotency-Key": "k-1"}
    first = client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    again = client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert {**again.json(), "token": None} == {**first.json(), "token": None}
    assert again.headers["idempotent-replayed"] == "true"
    keys = client.get("/v1/api-keys", headers=retailer.headers).json()
    assert len([k for k in keys if k["name"] == "a"]) == 1


def test_same_key_with_another_body_is_a_409(client: TestClient, retailer: Actor) -> None:
    headers = {**retailer.headers, "Idempotency-Key": "k-2"}
    client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    r = client.post("/v1/api-keys", json={"name": "b"}, headers=headers)
    assert r.status_code == 409
    assert r.json()["type"] == "urn:retailos:problem:idempotency-key-reused"


def test_keys_are_scoped_per_tenant(
    client: TestClient, retailer: Actor, make_actor  # type: ignore[no-untyped-def]
) -> None:
    other = make_actor("seller")
    a = client.post("/v1/api-keys", json={"name": "a"},
                    headers={**retailer.headers, "Idempotency-Key": "same"})
    b = client.post("/v1/api-keys", json={"name": "a"},
                    headers={**other.headers, "Idempotency-Key": "same"})
    assert a.json()["tenant_id"] == retailer.tenant_id
    assert b.json()["tenant_id"] == other.tenant_id


def test_failed_request_is_not_stored(client: TestClient, retailer: Actor) -> None:
    headers = {**retailer.headers, "Idempotency-Key": "k-3"}
    bad = client.post("/v1/api-keys", json={"name": "a", "scopes": ["nope"]}, headers=headers)
    assert bad.status_code == 422
    good = client.post("/v1/api-keys", json={"name": "a", "scopes": ["nope"]}, headers=headers)
    assert good.status_code == 422
    assert "idempotent-replayed" not in good.headers


def test_a_replayed_key_creation_does_not_store_or_return_the_token(
    client: TestClient, retailer: Actor, db  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import select

    from retailos.core.idempotency import REDACTED, IdempotencyRecord

    headers = {**retailer.headers, "Idempotency-Key": "k-secret"}
    first = client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    token = first.json()["token"]
    assert token.startswith("rk_")
    again = client.post("/v1/api-keys", json={"name": "a"}, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["token"] == REDACTED
    with db.transaction() as s:
        stored = s.scalars(select(IdempotencyRecord.body)).all()
    assert stored and all(token not in body for body in stored)
