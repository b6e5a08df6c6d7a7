"""Subscriptions and the delivery log over HTTP, with a real receiver on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from retailos.api.app import create_app
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.settings import Settings
from retailos.webhooks.dispatch import deliver_due, fan_out
from retailos.webhooks.signing import verify_signature
from tests.conftest import Actor
from tests.webhooks.conftest import Receiver

BASE = "/v1/webhooks"
PROBLEM = "application/problem+json"


def pump(db: Database, clock: ManualClock, http: httpx.Client) -> int:
    with db.transaction() as s:
        fan_out(s, clock)
    return deliver_due(db, clock, http, settings=Settings(webhook_max_attempts=3))


def subscribe(client: TestClient, actor: Actor, url: str, types: list[str]) -> dict[str, str]:
    r = client.post(f"{BASE}/subscriptions", json={"url": url, "event_types": types},
                    headers=actor.headers)
    assert r.status_code == 201, r.text
    body: dict[str, str] = r.json()
    return body


def test_the_secret_is_shown_once_at_creation(client: TestClient, retailer: Actor) -> None:
    created = subscribe(client, retailer, "https://example.com/hooks", ["order.*", "order.*"])
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["order.*"]
    assert created["tenant_id"] == retailer.tenant_id

    one = client.get(f"{BASE}/subscriptions/{created['id']}", headers=retailer.headers)
    listed = client.get(f"{BASE}/subscriptions", headers=retailer.headers)
    assert one.status_code == 200 and "secret" not in one.json()
    assert [s["id"] for s in listed.json()["data"]] == [created["id"]]
    assert "secret" not in listed.json()["data"][0]


def test_bad_urls_and_event_types_are_422_problems(client: TestClient, retailer: Actor) -> None:
    cases = [
        {"url": "ftp://example.com/x", "event_types": ["*"]},
        {"url": "not a url", "event_types": ["*"]},
        {"url": "https://user:pw@example.com/", "event_types": ["*"]},
        {"url": "https://example.com/", "event_types": ["Order Created"]},
        {"url": "https://example.com/", "event_types": []},
        {"url": "https://example.com/", "event_types": ["*"], "extra": 1},
    ]
    for body in cases:
        r = client.post(f"{BASE}/subscriptions", json=body, headers=retailer.headers)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "urn:retailos:problem:invalid-input"


def test_another_tenants_subscription_and_deliveries_are_404(
    client: TestClient, db: Database, clock: ManualClock, http: httpx.Client,
    receiver: Receiver, make_actor: Callable[..., Actor],
) -> None:
    owner, other = make_actor("retailer"), make_actor("seller")
    sub = subscribe(client, owner, receiver.url, ["*"])
    client.post(f"{BASE}/subscriptions/{sub['id']}/test", headers=owner.headers)
    pump(db, clock, http)
    [delivery] = client.get(f"{BASE}/subscriptions/{sub['id']}/deliveries",
                            headers=owner.headers).json()["data"]

    for method, path in [
        ("GET", f"{BASE}/subscriptions/{sub['id']}"),
        ("GET", f"{BASE}/subscriptions/{sub['id']}/deliveries"),
        ("POST", f"{BASE}/subscriptions/{sub['id']}/test"),
        ("DELETE", f"{BASE}/subscriptions/{sub['id']}"),
        ("GET", f"{BASE}/deliveries/{delivery['id']}"),
        ("POST", f"{BASE}/deliveries/{delivery['id']}/retry"),
    ]:
        r = client.request(method, path, headers=other.headers)
        assert r.status_code == 404, (method, path)
        assert r.json()["type"] == "urn:retailos:problem:not-found"
    assert client.get(f"{BASE}/subscriptions", headers=other.headers).json()["data"] == []
    assert client.get(f"{BASE}/subscriptions/{sub['id']}", headers=owner.headers).status_code \
        == 200


def test_scopes_guard_reading_and_writing(
    client: TestClient, make_actor: Callable[..., Actor]
) -> None:
    reader = make_actor("retailer", scopes=["webhooks:read"])
    r = client.post(f"{BASE}/subscriptions",
                    json={"url": "https://example.com/", "event_types": ["*"]},
                    headers=reader.headers)
    assert r.status_code == 403
    assert client.get(f"{BASE}/subscriptions", headers=reader.headers).status_code == 200


def test_test_event_and_the_delivery_log_over_the_api(
    client: TestClient, db: Database, clock: ManualClock, http: httpx.Client,
    receiver: Receiver, retailer: Actor,
) -> None:
    receiver.statuses = [500, 200]
    sub = subscribe(client, retailer, receiver.url, ["order.*"])
    bystander = subscribe(client, retailer, receiver.url, ["*"])
    sent = client.post(f"{BASE}/subscriptions/{sub['id']}/test", headers=retailer.headers)
    assert sent.status_code == 202
    assert sent.json()["type"] == "webhook.test"

    assert pump(db, clock, http) == 1  # the test event goes to its subscription only
    log = client.get(f"{BASE}/subscriptions/{sub['id']}/deliveries", headers=retailer.headers)
    [failed] = log.json()["data"]
    assert failed["event_id"] == sent.json()["id"]
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == (
        "failed", 1, 500)
    assert client.get(f"{BASE}/subscriptions/{bystander['id']}/deliveries",
                      headers=retailer.headers).json()["data"] == []

    retried = client.post(f"{BASE}/deliveries/{failed['id']}/retry", headers=retailer.headers)
    assert retried.status_code == 200
    assert retried.json()["next_attempt_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert pump(db, clock, http) == 1  # due at once, no need to wait out the backoff

    detail = client.get(f"{BASE}/deliveries/{failed['id']}", headers=retailer.headers).json()
    assert (detail["status"], detail["attempts"]) == ("succeeded", 2)
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in detail["attempt_log"]] == [
        (1, 500, False), (2, 200, True)]
    assert verify_signature(sub["secret"], receiver.requests[-1].headers["RetailOS-Signature"],
                            receiver.requests[-1].body, now=clock.now())
    only_ok = client.get(f"{BASE}/subscriptions/{sub['id']}/deliveries?status=succeeded",
                         headers=retailer.headers).json()["data"]
    assert [d["id"] for d in only_ok] == [failed["id"]]


def test_the_delivery_log_pages_by_cursor(
    client: TestClient, db: Database, clock: ManualClock, http: httpx.Client,
    receiver: Receiver, retailer: Actor,
) -> None:
    sub = subscribe(client, retailer, receiver.url, ["*"])
    for _ in range(5):
        client.post(f"{BASE}/subscriptions/{sub['id']}/test", headers=retailer.headers)
    pump(db, clock, http)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{BASE}/subscriptions/{sub['id']}/deliveries", params=params,
                          headers=retailer.headers).json()
        seen += [d["id"] for d in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)


def test_deleting_a_subscription_gives_up_its_waiting_deliveries(
    client: TestClient, db: Database, clock: ManualClock, http: httpx.Client,
    receiver: Receiver, retailer: Actor,
) -> None:
    receiver.statuses = [500]
    sub = subscribe(client, retailer, receiver.url, ["*"])
    client.post(f"{BASE}/subscriptions/{sub['id']}/test", headers=retailer.headers)
    pump(db, clock, http)

    r = client.delete(f"{BASE}/subscriptions/{sub['id']}", headers=retailer.headers)
    assert r.status_code == 204
    assert client.get(f"{BASE}/subscriptions/{sub['id']}", headers=retailer.headers).status_code \
        == 404
    clock.advance(hours=1)
    assert pump(db, clock, http) == 0
    assert len(receiver.requests) == 1


def test_the_api_process_runs_the_worker_when_settings_say_so(
    db: Database, clock: ManualClock, receiver: Receiver, retailer: Actor
) -> None:
    app = create_app(db=db, clock=clock, settings=Settings(run_workers=True))
    with TestClient(app) as client:
        sub = subscribe(client, retailer, receiver.url, ["*"])
        client.post(f"{BASE}/subscriptions/{sub['id']}/test", headers=retailer.headers)
        deadline = time.monotonic() + 10  # the worker polls once a second on its own thread
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["RetailOS-Event-Type"] == "webhook.test"
