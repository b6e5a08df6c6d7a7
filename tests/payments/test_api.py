"""Payments over HTTP: reads scoped by tenant, and the provider's signed webhook."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from retailos.core.db import Database
from retailos.core.money import Money
from retailos.payments.models import Payment
from retailos.payments.providers import SIGNATURE_HEADER, TestProvider
from tests.conftest import Actor, LiveServer
from tests.payments.conftest import PENDING, outbox_types

PROBLEM = "application/problem+json"
EVENTS = "/v1/payments/provider-events"


def test_tenant_reads_its_payment_and_refunds(
    client: TestClient, retailer: Actor, authorized: Callable[..., Payment]
) -> None:
    payment = authorized(tenant_id=retailer.tenant_id)
    r = client.get(f"/v1/payments/{payment.id}", headers=retailer.headers)
    assert r.status_code == 200
    body = r.json()
    assert (body["id"], body["status"], body["amount"], body["currency"], body["card_last4"]) == (
        payment.id, "authorized", 10_00, "USD", "4242")
    assert "card_number" not in body
    refunds = client.get(f"/v1/payments/{payment.id}/refunds", headers=retailer.headers)
    assert (refunds.status_code, refunds.json()) == (200, [])


def test_another_tenants_payment_is_a_404(
    client: TestClient, retailer: Actor, make_actor: Callable[..., Actor],
    authorized: Callable[..., Payment],
) -> None:
    payment = authorized(tenant_id=retailer.tenant_id)
    other = make_actor("retailer")
    for path in (f"/v1/payments/{payment.id}", f"/v1/payments/{payment.id}/refunds"):
        r = client.get(path, headers=other.headers)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "urn:retailos:problem:not-found"
    listed = client.get("/v1/payments", headers=other.headers)
    assert listed.json() == {"data": [], "next_cursor": None}


def test_payments_are_listed_a_page_at_a_time(
    client: TestClient, retailer: Actor, authorized: Callable[..., Payment]
) -> None:
    made = sorted(authorized(tenant_id=retailer.tenant_id, ref=f"grp_{i}").id for i in range(3))
    first = client.get("/v1/payments?limit=2", headers=retailer.headers).json()
    assert [p["id"] for p in first["data"]] == made[:2]
    rest = client.get(f"/v1/payments?limit=2&cursor={first['next_cursor']}",
                      headers=retailer.headers).json()
    assert ([p["id"] for p in rest["data"]], rest["next_cursor"]) == (made[2:], None)
    by_ref = client.get("/v1/payments?ref=grp_1", headers=retailer.headers).json()
    assert [p["ref"] for p in by_ref["data"]] == ["grp_1"]


def test_reading_payments_needs_the_scope(
    client: TestClient, make_actor: Callable[..., Actor]
) -> None:
    reader = make_actor("retailer", scopes=["catalog:read"])
    r = client.get("/v1/payments", headers=reader.headers)
    assert r.status_code == 403
    assert client.get("/v1/payments").status_code == 401


def test_signed_confirmation_authorises_and_a_replay_is_a_no_op(
    client: TestClient, db: Database, retailer: Actor, processor: TestProvider,
    authorized: Callable[..., Payment],
) -> None:
    payment = authorized(tenant_id=retailer.tenant_id, card=PENDING)
    assert payment.status == "pending_confirmation"
    body, headers = processor.signed(processor.confirm(payment.provider_ref))
    first = client.post(EVENTS, content=body, headers=headers)  # no API key: the signature
    assert first.status_code == 200
    assert first.json()["processed"] is True
    assert first.json()["payment_id"] == payment.id
    replay = client.post(EVENTS, content=body, headers=headers)
    assert replay.status_code == 200
    assert replay.json()["processed"] is False
    now = client.get(f"/v1/payments/{payment.id}", headers=retailer.headers).json()
    assert now["status"] == "authorized"
    assert outbox_types(db, retailer.tenant_id) == ["payment.authorized"]


def test_bad_or_missing_signature_is_a_401_problem(
    client: TestClient, retailer: Actor, processor: TestProvider,
    authorized: Callable[..., Payment],
) -> None:
    payment = authorized(tenant_id=retailer.tenant_id, card=PENDING)
    body, headers = processor.signed(processor.confirm(payment.provider_ref))
    forged = TestProvider(webhook_secret="not-the-secret").signed(
        processor.confirm(payment.provider_ref))[1]
    attempts = [
        (body, {**headers, SIGNATURE_HEADER: forged[SIGNATURE_HEADER]}),
        (body.replace(b"payment.succeeded", b"payment.failed"), headers),
        (body, {"Content-Type": "application/json"}),
    ]
    for content, sent in attempts:
        r = client.post(EVENTS, content=content, headers=sent)
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["type"] == "urn:retailos:problem:unauthenticated"
    still = client.get(f"/v1/payments/{payment.id}", headers=retailer.headers).json()
    assert still["status"] == "pending_confirmation"


def test_event_for_a_payment_not_yet_known_asks_for_redelivery(
    client: TestClient, processor: TestProvider
) -> None:
    pending = processor.authorize(Money(5_00, "USD"), PENDING, "elsewhere")
    body, headers = processor.signed(processor.confirm(pending.provider_ref))
    r = client.post(EVENTS, content=body, headers=headers)
    assert r.status_code == 404
    assert r.json()["type"] == "urn:retailos:problem:not-found"


def test_a_running_server_applies_the_processors_signed_event(
    live_server: LiveServer, retailer: Actor, processor: TestProvider,
    authorized: Callable[..., Payment],
) -> None:
    payment = authorized(tenant_id=retailer.tenant_id, card=PENDING)
    body, headers = processor.signed(processor.confirm(payment.provider_ref))
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        for processed in (True, False):  # delivered, then redelivered
            r = http.post(EVENTS, content=body, headers=headers)
            assert (r.status_code, r.json()["processed"]) == (200, processed)
        now = http.get(f"/v1/payments/{payment.id}", headers=retailer.headers).json()
    assert now["status"] == "authorized"
