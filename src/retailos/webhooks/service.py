"""Webhook subscriptions and the delivery log: the only code that writes the webhook tables
on behalf of a tenant. Sending lives in `dispatch`."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from retailos.core import outbox
from retailos.core.clock import Clock
from retailos.core.errors import Conflict, InvalidInput, NotFound
from retailos.core.ids import new_id
from retailos.core.outbox import OutboxEvent
from retailos.core.pagination import paginate
from retailos.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

TEST_EVENT = "webhook.test"
# `*`, an exact event name such as `order.created`, or a prefix pattern such as `order.*`.
EVENT_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Whether an event type is covered by a subscription's patterns."""
    for p in patterns:
        if p == "*" or p == event_type:
            return True
        if p.endswith(".*") and event_type.startswith(p[:-1]):
            return True
    return False


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url must be an absolute http or https URL", field="url")
    if parts.username or parts.password:
        raise InvalidInput("url must not carry credentials", field="url")
    return url


def check_event_types(event_types: Sequence[str]) -> list[str]:
    if not event_types:
        raise InvalidInput("event_types must name at least one event type", field="event_types")
    bad = [t for t in event_types if len(t) > 80 or not EVENT_PATTERN.match(t)]
    if bad:
        raise InvalidInput(
            f"event types must be '*', a name like 'order.created' or a prefix like 'order.*';"
            f" not {bad[0]!r}", field="event_types",
        )
    return sorted(set(event_types))


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str  # shown once


def create_subscription(
    session: Session, clock: Clock, tenant_id: str, url: str, event_types: Sequence[str],
    description: str = "",
) -> CreatedSubscription:
    secret = "whsec_" + secrets.token_urlsafe(32)
    sub = WebhookSubscription(
        id=new_id("whk"), tenant_id=tenant_id, url=check_url(url),
        event_types=check_event_types(event_types), secret=secret, description=description,
        active=True, created_at=clock.now(),
    )
    session.add(sub)
    session.flush()
    return CreatedSubscription(sub, secret)


def get_subscription(session: Session, tenant_id: str, subscription_id: str) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None or sub.tenant_id != tenant_id or sub.deleted_at is not None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    return sub


def list_subscriptions(
    session: Session, tenant_id: str, cursor: str | None, limit: int
) -> tuple[Sequence[WebhookSubscription], str | None]:
    stmt = select(WebhookSubscription).where(
        WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.deleted_at.is_(None)
    )
    return paginate(session, stmt, WebhookSubscription.id, cursor, limit)


def delete_subscription(session: Session, clock: Clock, tenant_id: str,
                        subscription_id: str) -> None:
    """Stop the subscription; deliveries still waiting for it are given up."""
    sub = get_subscription(session, tenant_id, subscription_id)
    now = clock.now()
    sub.active = False
    sub.deleted_at = now
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == tenant_id,
               WebhookDelivery.subscription_id == sub.id,
               WebhookDelivery.status.in_(("pending", "failed")))
        .values(status="dead", next_attempt_at=None, lease_id=None, completed_at=now,
                last_error="the subscription was deleted")
    )


def send_test_event(session: Session, clock: Clock, tenant_id: str,
                    subscription_id: str) -> OutboxEvent:
    """Publish a `webhook.test` event that goes to this subscription only."""
    sub = get_subscription(session, tenant_id, subscription_id)
    event = outbox.publish(session, clock, tenant_id, TEST_EVENT,
                           {"subscription_id": sub.id, "message": "a test event from RetailOS"})
    session.flush()
    return event


def list_deliveries(
    session: Session, tenant_id: str, subscription_id: str, status: str | None,
    cursor: str | None, limit: int,
) -> tuple[Sequence[WebhookDelivery], str | None]:
    get_subscription(session, tenant_id, subscription_id)
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.subscription_id == subscription_id
    )
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return paginate(session, stmt, WebhookDelivery.id, cursor, limit)


def get_delivery(session: Session, tenant_id: str, delivery_id: str) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.tenant_id != tenant_id:
        raise NotFound(f"no webhook delivery {delivery_id}")
    return delivery


def list_attempts(session: Session, tenant_id: str, delivery_id: str) -> list[WebhookAttempt]:
    stmt = (select(WebhookAttempt)
            .where(WebhookAttempt.tenant_id == tenant_id,
                   WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id))
    return list(session.scalars(stmt))


def retry_delivery(session: Session, clock: Clock, tenant_id: str,
                   delivery_id: str) -> WebhookDelivery:
    """Send the delivery again as soon as a worker runs: one more attempt, whatever its state."""
    delivery = get_delivery(session, tenant_id, delivery_id)
    sub = get_subscription(session, tenant_id, delivery.subscription_id)
    now = clock.now()
    if (delivery.lease_id is not None and delivery.next_attempt_at is not None
            and delivery.next_attempt_at > now):
        raise Conflict("this delivery is being sent right now; retry when it has finished")
    if not sub.active:
        raise Conflict("the subscription is not active")
    delivery.status = "pending" if delivery.status in ("succeeded", "dead") else delivery.status
    delivery.next_attempt_at = now
    delivery.lease_id = None
    delivery.completed_at = None
    session.flush()
    return delivery
