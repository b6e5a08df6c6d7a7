"""Webhook subscriptions and their delivery log over HTTP."""

from __future__ import annotations

from fastapi import Depends, Query, Response
from sqlalchemy.orm import Session

from retailos.api.deps import clock, scoped, session
from retailos.api.routing import make_router
from retailos.core.clock import Clock
from retailos.core.pagination import MAX_LIMIT
from retailos.tenants.service import Principal
from retailos.webhooks import service
from retailos.webhooks.schemas import (
    AttemptOut,
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    TestEventOut,
)

router = make_router("/v1/webhooks", "webhooks")


@router.post("/subscriptions", status_code=201, response_model=SubscriptionCreatedOut,
             summary="Subscribe a URL to event types; the signing secret is shown once")
def create_subscription(
    body: SubscriptionIn,
    who: Principal = Depends(scoped("webhooks:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> SubscriptionCreatedOut:
    created = service.create_subscription(db, now, who.tenant_id, body.url, body.event_types,
                                          body.description)
    return SubscriptionCreatedOut.model_validate(
        {**SubscriptionOut.model_validate(created.subscription).model_dump(),
         "secret": created.secret}
    )


@router.get("/subscriptions", response_model=SubscriptionPage)
def list_subscriptions(
    cursor: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
    who: Principal = Depends(scoped("webhooks:read")),
    db: Session = Depends(session),
) -> SubscriptionPage:
    rows, next_cursor = service.list_subscriptions(db, who.tenant_id, cursor, limit)
    return SubscriptionPage(data=[SubscriptionOut.model_validate(r) for r in rows],
                            next_cursor=next_cursor)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(
    subscription_id: str,
    who: Principal = Depends(scoped("webhooks:read")),
    db: Session = Depends(session),
) -> SubscriptionOut:
    return SubscriptionOut.model_validate(
        service.get_subscription(db, who.tenant_id, subscription_id))


@router.delete("/subscriptions/{subscription_id}", status_code=204, response_class=Response,
               summary="Delete a subscription; deliveries still waiting are given up")
def delete_subscription(
    subscription_id: str,
    who: Principal = Depends(scoped("webhooks:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> Response:
    service.delete_subscription(db, now, who.tenant_id, subscription_id)
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/test", status_code=202,
             response_model=TestEventOut,
             summary="Send a `webhook.test` event to this subscription through the outbox")
def send_test_event(
    subscription_id: str,
    who: Principal = Depends(scoped("webhooks:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> TestEventOut:
    return TestEventOut.model_validate(
        service.send_test_event(db, now, who.tenant_id, subscription_id))


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage,
            summary="The delivery log of a subscription, oldest first")
def list_deliveries(
    subscription_id: str,
    status: DeliveryStatus | None = None,
    cursor: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
    who: Principal = Depends(scoped("webhooks:read")),
    db: Session = Depends(session),
) -> DeliveryPage:
    rows, next_cursor = service.list_deliveries(db, who.tenant_id, subscription_id, status,
                                                cursor, limit)
    return DeliveryPage(data=[DeliveryOut.model_validate(r) for r in rows],
                        next_cursor=next_cursor)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetailOut,
            summary="A delivery with every attempt made")
def get_delivery(
    delivery_id: str,
    who: Principal = Depends(scoped("webhooks:read")),
    db: Session = Depends(session),
) -> DeliveryDetailOut:
    delivery = service.get_delivery(db, who.tenant_id, delivery_id)
    attempts = service.list_attempts(db, who.tenant_id, delivery_id)
    return DeliveryDetailOut.model_validate({
        **DeliveryOut.model_validate(delivery).model_dump(),
        "attempt_log": [AttemptOut.model_validate(a) for a in attempts],
    })


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryOut,
             summary="Attempt a delivery once more, as soon as a worker runs")
def retry_delivery(
    delivery_id: str,
    who: Principal = Depends(scoped("webhooks:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> DeliveryOut:
    return DeliveryOut.model_validate(service.retry_delivery(db, now, who.tenant_id, delivery_id))
