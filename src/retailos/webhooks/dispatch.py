"""From the outbox to the receivers.

`fan_out` turns undispatched outbox events into one delivery per matching subscription of the
event's tenant, after running the in-process handlers that other packages registered, and marks
the events dispatched, all in one transaction. `deliver_due` claims due deliveries under a lease,
sends them outside any transaction, then records each attempt. Both are safe to run in several
processes at once: PostgreSQL rows are taken with FOR UPDATE SKIP LOCKED, and SQLite's BEGIN
IMMEDIATE lets one writer in at a time.
"""

from __future__ import annotations

import json
import logging
import math
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.db import Database
from retailos.core.ids import new_id
from retailos.core.outbox import OutboxEvent
from retailos.core.settings import Settings, get_settings
from retailos.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from retailos.webhooks.service import TEST_EVENT, matches
from retailos.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    sign,
)

log = logging.getLogger("retailos.webhooks")

Handler = Callable[[Session, Clock, OutboxEvent], None]
# event type (or pattern, as for subscriptions) -> handlers, filled by register_handler.
HANDLERS: dict[str, list[Handler]] = defaultdict(list)

# Seconds to wait after attempt n (1-based); the last step repeats. Each is jittered by +-20%.
BACKOFF_S = (10, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)
JITTER = 0.2
MAX_ERROR_CHARS = 500
# Requests in flight at once per deliver_due call, so one slow receiver does not hold up the rest.
CONCURRENCY = 16


def register_handler(event_type: str, fn: Handler) -> None:
    """Run `fn(session, clock, event)` for each event of `event_type` (or a pattern such as
    `order.*`) inside the fan-out transaction, before webhooks go out. Handlers must be
    idempotent: a handler that raises leaves its event undispatched, to be tried again."""
    if fn not in HANDLERS[event_type]:
        HANDLERS[event_type].append(fn)


def _handlers_for(event_type: str) -> list[Handler]:
    return [fn for pattern, fns in HANDLERS.items() if matches([pattern], event_type)
            for fn in fns]


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after failed attempt number `attempt`."""
    base = BACKOFF_S[min(attempt, len(BACKOFF_S)) - 1]
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=base * spread)


def fan_out(session: Session, clock: Clock, limit: int = 100) -> int:
    """Dispatch up to `limit` outbox events; returns how many. The caller commits."""
    events = list(session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if not events:
        return 0
    now = clock.now()
    handled = [e for e in events if _run_handlers(session, clock, e)]
    tenant_ids = {e.tenant_id for e in handled}
    subs = list(session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.tenant_id.in_(tenant_ids), WebhookSubscription.active)
        .order_by(WebhookSubscription.id)
    )) if tenant_ids else []
    by_tenant: dict[str, list[WebhookSubscription]] = defaultdict(list)
    for sub in subs:
        by_tenant[sub.tenant_id].append(sub)
    # A delivery that exists already (an event dispatched again by hand) is not made twice.
    # (subscription_id, event_id) is the unique index, so this is an index lookup.
    existing = {(row.subscription_id, row.event_id) for row in session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id.in_([s.id for s in subs]),
               WebhookDelivery.event_id.in_([e.id for e in handled]))
    )} if subs else set()
    for event in handled:
        for sub in by_tenant[event.tenant_id]:
            if not _wants(sub, event) or (sub.id, event.id) in existing:
                continue
            session.add(WebhookDelivery(
                id=new_id("dlv"), tenant_id=event.tenant_id, subscription_id=sub.id,
                event_id=event.id, event_type=event.type, status="pending", attempts=0,
                next_attempt_at=now, created_at=now,
            ))
        event.dispatched_at = now
    session.flush()
    return len(handled)


def _wants(sub: WebhookSubscription, event: OutboxEvent) -> bool:
    if event.type == TEST_EVENT:
        return bool(event.payload.get("subscription_id") == sub.id)
    return matches(sub.event_types, event.type)


def _run_handlers(session: Session, clock: Clock, event: OutboxEvent) -> bool:
    handlers = _handlers_for(event.type)
    if not handlers:
        return True
    try:
        with session.begin_nested():
            for fn in handlers:
                fn(session, clock, event)
    except Exception:
        log.exception("outbox handler failed; the event stays undispatched",
                      extra={"event_id": event.id, "event_type": event.type})
        return False
    return True


@dataclass(frozen=True)
class _Job:
    delivery_id: str
    tenant_id: str
    lease_id: str
    attempt: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    status_code: int | None
    error: str | None
    response_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def event_body(event: OutboxEvent) -> bytes:
    """The JSON document a receiver gets."""
    doc: dict[str, Any] = {
        "id": event.id, "type": event.type, "created_at": event.created_at.isoformat(),
        "tenant_id": event.tenant_id, "data": event.payload,
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def deliver_due(
    db: Database, clock: Clock, http_client: httpx.Client, limit: int = 50,
    settings: Settings | None = None,
) -> int:
    """Send up to `limit` due deliveries; returns how many were attempted."""
    settings = settings or get_settings()
    with db.transaction() as session:
        jobs = _claim(session, clock, limit, settings)
    if len(jobs) <= 1:
        outcomes = [_send(http_client, clock, job, settings) for job in jobs]
    else:
        with ThreadPoolExecutor(min(len(jobs), CONCURRENCY), "retailos-webhook-send") as pool:
            outcomes = list(pool.map(lambda job: _send(http_client, clock, job, settings), jobs))
    if outcomes:
        with db.transaction() as session:
            _record(session, clock, outcomes, settings)
    return len(outcomes)


def _lease(settings: Settings, batch: int) -> timedelta:
    """Long enough for the whole batch to be sent and recorded: rounds of CONCURRENCY sends,
    each bounded by the timeout of each of httpx's phases (connect, write, read, pool)."""
    rounds = math.ceil(batch / CONCURRENCY)
    return timedelta(seconds=30 + 4 * settings.webhook_timeout_seconds * rounds)


def _claim(session: Session, clock: Clock, limit: int, settings: Settings) -> list[_Job]:
    now = clock.now()
    due = list(session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.next_attempt_at <= now,
               WebhookDelivery.status.in_(("pending", "failed")))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if not due:
        return []
    subs = {s.id: s for s in session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.id.in_({d.subscription_id for d in due})))}
    events = {e.id: e for e in session.scalars(
        select(OutboxEvent).where(OutboxEvent.id.in_({d.event_id for d in due})))}
    jobs = []
    lease = _lease(settings, len(due))
    for d in due:
        sub, event = subs[d.subscription_id], events.get(d.event_id)
        if not sub.active or event is None:
            d.status, d.next_attempt_at, d.completed_at = "dead", None, now
            d.last_error = "the subscription was deleted" if not sub.active else "event is gone"
            continue
        d.attempts += 1
        d.lease_id = secrets.token_hex(16)
        d.next_attempt_at = now + lease  # the lease: due again only if this worker vanishes
        jobs.append(_Job(d.id, d.tenant_id, d.lease_id, d.attempts, sub.url, sub.secret, event.id,
                         event.type, event_body(event)))
    return jobs


def _send(client: httpx.Client, clock: Clock, job: _Job, settings: Settings) -> _Outcome:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "RetailOS-Webhooks/1",
        SIGNATURE_HEADER: sign(job.secret, int(clock.now().timestamp()), job.body),
        EVENT_ID_HEADER: job.event_id,
        EVENT_TYPE_HEADER: job.event_type,
    }
    start = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        response = client.post(job.url, content=job.body, headers=headers,
                               timeout=settings.webhook_timeout_seconds)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"the receiver answered HTTP {status}"
    except httpx.HTTPError as e:
        error = f"{type(e).__name__}: {e}"[:MAX_ERROR_CHARS] or type(e).__name__
    ms = round((time.perf_counter() - start) * 1000)
    return _Outcome(job, status, error, ms)


def _record(session: Session, clock: Clock, outcomes: list[_Outcome], settings: Settings) -> None:
    """Store the outcomes and their attempt rows, in a fixed number of statements."""
    now = clock.now()
    # Only the holder of the lease records; a worker whose lease ran out lost the delivery.
    held = {(row.id, row.lease_id) for row in session.execute(
        select(WebhookDelivery.id, WebhookDelivery.lease_id)
        .where(WebhookDelivery.id.in_([o.job.delivery_id for o in outcomes]))
        .order_by(WebhookDelivery.id)
        .with_for_update()
    )}
    rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        job = outcome.job
        if (job.delivery_id, job.lease_id) not in held:
            log.warning("webhook lease lost before recording",
                        extra={"delivery_id": job.delivery_id})
            continue
        if outcome.succeeded:
            status, next_at, completed = "succeeded", None, now
        elif job.attempt >= settings.webhook_max_attempts:
            status, next_at, completed = "dead", None, now
        else:
            status, next_at, completed = "failed", now + backoff(job.attempt), None
        rows.append({
            "b_id": job.delivery_id, "status": status, "next_attempt_at": next_at,
            "completed_at": completed, "lease_id": None, "last_status_code": outcome.status_code,
            "last_error": outcome.error, "last_response_ms": outcome.response_ms,
        })
        session.add(WebhookAttempt(
            id=new_id("att"), tenant_id=job.tenant_id, delivery_id=job.delivery_id,
            number=job.attempt, attempted_at=now, succeeded=outcome.succeeded,
            status_code=outcome.status_code, error=outcome.error,
            response_ms=outcome.response_ms,
        ))
        log.info("webhook attempt", extra={
            "delivery_id": job.delivery_id, "attempt": job.attempt,
            "status": outcome.status_code, "ms": outcome.response_ms, "outcome": status,
        })
    if rows:
        table = cast(Table, WebhookDelivery.__table__)
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                {c: bindparam(c) for c in rows[0] if c != "b_id"}),
            rows,
        )
    session.flush()
