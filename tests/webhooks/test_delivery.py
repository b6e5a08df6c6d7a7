"""Delivery to a real HTTP receiver on 127.0.0.1: signatures, matching, retries, the dead end,
and fan-out that delivers each event once per subscription however many workers run."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from retailos.core import outbox
from retailos.core.clock import Clock, ManualClock
from retailos.core.db import Database
from retailos.core.outbox import OutboxEvent
from retailos.core.pgcluster import free_port
from retailos.core.settings import Settings
from retailos.webhooks import dispatch, service
from retailos.webhooks.dispatch import deliver_due, fan_out, register_handler
from retailos.webhooks.models import WebhookAttempt, WebhookDelivery
from retailos.webhooks.service import CreatedSubscription
from retailos.webhooks.signing import verify_signature
from tests.conftest import Actor, recorded_statements
from tests.webhooks.conftest import Receiver

SETTINGS = Settings(webhook_max_attempts=4, webhook_timeout_seconds=2.0)


def subscribe(db: Database, clock: Clock, tenant_id: str, url: str,
              types: list[str]) -> CreatedSubscription:
    with db.transaction() as s:
        return service.create_subscription(s, clock, tenant_id, url, types)


def publish(db: Database, clock: Clock, tenant_id: str, type: str) -> str:
    with db.transaction() as s:
        return outbox.publish(s, clock, tenant_id, type, {"order_id": "ord_1", "total": 1299}).id


def pump(db: Database, clock: Clock, http: httpx.Client) -> int:
    """One worker pass: fan out, then send whatever is due."""
    with db.transaction() as s:
        fan_out(s, clock)
    return deliver_due(db, clock, http, settings=SETTINGS)


def deliveries(db: Database, subscription_id: str) -> list[WebhookDelivery]:
    with db.sessions() as s:
        return list(s.scalars(select(WebhookDelivery)
                              .where(WebhookDelivery.subscription_id == subscription_id)
                              .order_by(WebhookDelivery.id)))


def attempts(db: Database, delivery_id: str) -> list[WebhookAttempt]:
    with db.sessions() as s:
        return list(s.scalars(select(WebhookAttempt)
                              .where(WebhookAttempt.delivery_id == delivery_id)
                              .order_by(WebhookAttempt.id)))


def test_delivery_is_signed_and_verifies_with_the_helper(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    sub = subscribe(db, clock, retailer.tenant_id, receiver.url, ["order.*"])
    event_id = publish(db, clock, retailer.tenant_id, "order.created")

    assert pump(db, clock, http) == 1

    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/hooks"
    assert got.headers["RetailOS-Event-Id"] == event_id
    assert got.headers["RetailOS-Event-Type"] == "order.created"
    assert got.headers["Content-Type"] == "application/json"
    signature = got.headers["RetailOS-Signature"]
    assert signature.startswith(f"t={int(clock.now().timestamp())},v1=")
    assert verify_signature(sub.secret, signature, got.body, tolerance_s=300, now=clock.now())
    assert not verify_signature("whsec_wrong", signature, got.body, now=clock.now())
    assert not verify_signature(sub.secret, signature, got.body + b" ", now=clock.now())
    assert not verify_signature(sub.secret, signature, got.body, tolerance_s=300,
                                now=clock.now() + timedelta(minutes=6))
    doc = json.loads(got.body)
    assert doc == {
        "id": event_id, "type": "order.created", "created_at": clock.now().isoformat(),
        "tenant_id": retailer.tenant_id, "data": {"order_id": "ord_1", "total": 1299},
    }
    [delivery] = deliveries(db, sub.subscription.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.next_attempt_at is None
    [attempt] = attempts(db, delivery.id)
    assert (attempt.number, attempt.succeeded, attempt.status_code) == (1, True, 200)


def test_only_matching_event_types_of_the_same_tenant_are_delivered(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver,
    make_actor: Callable[..., Actor],
) -> None:
    a, b = make_actor("retailer"), make_actor("seller")
    orders = subscribe(db, clock, a.tenant_id, receiver.url, ["order.*"])
    payments = subscribe(db, clock, a.tenant_id, receiver.url, ["payment.authorized"])
    everything_b = subscribe(db, clock, b.tenant_id, receiver.url, ["*"])
    a_order = publish(db, clock, a.tenant_id, "order.created")
    publish(db, clock, a.tenant_id, "payment.captured")
    publish(db, clock, a.tenant_id, "orders.archived")  # `order.*` is a dotted prefix only
    b_order = publish(db, clock, b.tenant_id, "order.created")

    assert pump(db, clock, http) == 2

    assert [d.event_id for d in deliveries(db, orders.subscription.id)] == [a_order]
    assert deliveries(db, payments.subscription.id) == []
    assert [d.event_id for d in deliveries(db, everything_b.subscription.id)] == [b_order]
    assert sorted(r.headers["RetailOS-Event-Id"] for r in receiver.requests) == sorted(
        [a_order, b_order])
    with db.sessions() as s:
        assert s.scalars(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))).all() \
            == []


def test_a_500_is_retried_with_backoff_until_it_succeeds(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    receiver.statuses = [500, 503, 200]
    sub = subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])
    publish(db, clock, retailer.tenant_id, "order.created")

    assert pump(db, clock, http) == 1
    [d] = deliveries(db, sub.subscription.id)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 1, 500)
    assert d.next_attempt_at is not None
    assert timedelta(seconds=8) <= d.next_attempt_at - clock.now() <= timedelta(seconds=12)
    assert pump(db, clock, http) == 0  # not due yet

    clock.advance(seconds=12.5)
    assert pump(db, clock, http) == 1
    [d] = deliveries(db, sub.subscription.id)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 2, 503)
    assert d.next_attempt_at is not None
    assert timedelta(seconds=24) <= d.next_attempt_at - clock.now() <= timedelta(seconds=36)

    clock.advance(seconds=37)
    assert pump(db, clock, http) == 1
    [d] = deliveries(db, sub.subscription.id)
    assert (d.status, d.attempts, d.last_status_code, d.last_error) == ("succeeded", 3, 200, None)
    log = attempts(db, d.id)
    assert [(a.number, a.status_code, a.succeeded) for a in log] == [
        (1, 500, False), (2, 503, False), (3, 200, True)]
    assert len(receiver.requests) == 3
    assert len({r.headers["RetailOS-Event-Id"] for r in receiver.requests}) == 1


def test_a_delivery_is_dead_after_the_last_attempt(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    receiver.statuses = [500]
    sub = subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])
    publish(db, clock, retailer.tenant_id, "order.created")

    for _ in range(SETTINGS.webhook_max_attempts):
        assert pump(db, clock, http) == 1
        clock.advance(hours=1)
    assert pump(db, clock, http) == 0
    clock.advance(days=2)
    assert pump(db, clock, http) == 0

    [d] = deliveries(db, sub.subscription.id)
    assert (d.status, d.attempts, d.next_attempt_at) == ("dead", 4, None)
    assert len(receiver.requests) == 4
    assert len(attempts(db, d.id)) == 4


def test_a_receiver_that_is_down_is_a_failed_attempt_not_a_crash(
    db: Database, clock: ManualClock, http: httpx.Client, retailer: Actor
) -> None:
    sub = subscribe(db, clock, retailer.tenant_id, f"http://127.0.0.1:{free_port()}/x", ["*"])
    publish(db, clock, retailer.tenant_id, "order.created")

    assert pump(db, clock, http) == 1

    [d] = deliveries(db, sub.subscription.id)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 1, None)
    assert d.last_error is not None and "ConnectError" in d.last_error
    [attempt] = attempts(db, d.id)
    assert attempt.succeeded is False and attempt.status_code is None


def test_fan_out_twice_delivers_each_event_once_per_subscription(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    first = subscribe(db, clock, retailer.tenant_id, receiver.url, ["order.*"])
    second = subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])
    publish(db, clock, retailer.tenant_id, "order.created")
    with db.transaction() as s:
        assert fan_out(s, clock) == 1
    with db.transaction() as s:
        assert fan_out(s, clock) == 0

    assert len(deliveries(db, first.subscription.id)) == 1
    assert len(deliveries(db, second.subscription.id)) == 1


def test_concurrent_workers_deliver_each_event_once_per_subscription(
    db: Database, clock: ManualClock, receiver: Receiver, retailer: Actor
) -> None:
    subs = [subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"]) for _ in range(2)]
    events = [publish(db, clock, retailer.tenant_id, "order.created") for _ in range(40)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with httpx.Client() as client:
                start.wait()
                for _ in range(10):
                    with db.transaction() as s:
                        fan_out(s, clock, limit=7)
                    deliver_due(db, clock, client, limit=5, settings=SETTINGS)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    for sub in subs:
        found = deliveries(db, sub.subscription.id)
        assert sorted(d.event_id for d in found) == sorted(events)
        assert {d.status for d in found} == {"succeeded"}
    sent = [r.headers["RetailOS-Event-Id"] for r in receiver.requests]
    assert len(sent) == 80  # 40 events x 2 subscriptions, none twice


def test_handlers_run_before_fan_out_and_a_failing_one_holds_its_event_back(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dispatch, "HANDLERS", dispatch.defaultdict(list))
    seen: list[str] = []
    broken = {"on": True}

    def record(session: Session, clock: Clock, event: OutboxEvent) -> None:
        seen.append(event.type)
        outbox.publish(session, clock, event.tenant_id, "audit.noted", {"of": event.id})

    def flaky(session: Session, clock: Clock, event: OutboxEvent) -> None:
        if broken["on"]:
            raise RuntimeError("not today")

    register_handler("payment.authorized", record)
    register_handler("payment.authorized", record)  # registering twice runs it once
    register_handler("order.*", flaky)
    sub = subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])
    publish(db, clock, retailer.tenant_id, "payment.authorized")
    order_event = publish(db, clock, retailer.tenant_id, "order.created")

    with db.transaction() as s:
        assert fan_out(s, clock) == 1
    assert seen == ["payment.authorized"]
    assert order_event not in {d.event_id for d in deliveries(db, sub.subscription.id)}

    broken["on"] = False
    with db.transaction() as s:
        assert fan_out(s, clock) == 2  # the held-back order event and the handler's own event
    types = sorted(d.event_type for d in deliveries(db, sub.subscription.id))
    assert types == ["audit.noted", "order.created", "payment.authorized"]


def test_a_claim_by_a_worker_that_vanished_expires_and_its_late_report_is_ignored(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    sub = subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])
    publish(db, clock, retailer.tenant_id, "order.created")
    with db.transaction() as s:
        fan_out(s, clock)
    with db.transaction() as s:  # a worker claims the delivery, then dies before sending
        [lost] = dispatch._claim(s, clock, 10, SETTINGS)

    assert deliver_due(db, clock, http, settings=SETTINGS) == 0  # held by the lease
    clock.advance(seconds=dispatch._lease(SETTINGS, 1).total_seconds() + 1)
    assert deliver_due(db, clock, http, settings=SETTINGS) == 1
    with db.transaction() as s:  # the vanished worker comes back and reports a failure
        dispatch._record(s, clock, [dispatch._Outcome(lost, 500, "late", 1)], SETTINGS)

    [d] = deliveries(db, sub.subscription.id)
    assert (d.status, d.attempts, d.last_status_code) == ("succeeded", 2, 200)
    assert [(a.number, a.status_code) for a in attempts(db, d.id)] == [(2, 200)]
    assert len(receiver.requests) == 1


def test_a_slow_receiver_does_not_hold_up_the_others(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            with lock:
                in_flight["now"] += 1
                in_flight["most"] = max(in_flight["most"], in_flight["now"])
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(0.3)
            with lock:
                in_flight["now"] -= 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    slow = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    try:
        for _ in range(8):
            subscribe(db, clock, retailer.tenant_id,
                      f"http://127.0.0.1:{slow.server_address[1]}/", ["*"])
        fast = subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])
        publish(db, clock, retailer.tenant_id, "order.created")
        with db.transaction() as s:
            fan_out(s, clock)
        assert deliver_due(db, clock, http, settings=SETTINGS) == 9
    finally:
        slow.shutdown()
    # the slow receiver's requests were sent side by side, not one after another
    assert in_flight["most"] >= 2
    [d] = deliveries(db, fast.subscription.id)
    assert d.status == "succeeded"


def test_a_pass_costs_the_same_statements_for_one_event_or_forty(
    db: Database, clock: ManualClock, http: httpx.Client, receiver: Receiver, retailer: Actor
) -> None:
    for _ in range(3):
        subscribe(db, clock, retailer.tenant_id, receiver.url, ["*"])

    def one_pass(events: int) -> int:
        for _ in range(events):
            publish(db, clock, retailer.tenant_id, "order.created")
        with recorded_statements(db) as seen:
            pump(db, clock, http)
        return len(seen)

    assert one_pass(1) == one_pass(40)
