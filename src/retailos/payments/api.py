"""Payments over HTTP: read payments and refunds; receive the provider's signed events.

Captures and refunds are made by the orders workflow, which posts them to the ledger, so this
router does not move money itself.
"""

from __future__ import annotations

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from retailos.api.deps import clock, scoped, session
from retailos.api.routing import make_router
from retailos.core.clock import Clock
from retailos.core.pagination import MAX_LIMIT
from retailos.payments import service
from retailos.payments.providers import SIGNATURE_HEADER
from retailos.payments.schemas import PaymentOut, PaymentPage, ProviderEventReceipt, RefundOut
from retailos.tenants.service import Principal

router = make_router("/v1/payments", "payments")


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.get("", response_model=PaymentPage, summary="The tenant's payments, oldest first")
def list_payments(
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    ref: str | None = Query(None, max_length=100, description="Only payments for this ref"),
    who: Principal = Depends(scoped("payments:read")),
    db: Session = Depends(session),
) -> PaymentPage:
    rows, next_cursor = service.list_payments(db, who.tenant_id, cursor, limit, ref)
    return PaymentPage(data=[PaymentOut.model_validate(p) for p in rows], next_cursor=next_cursor)


@router.get("/{payment_id}", response_model=PaymentOut)
def get_payment(
    payment_id: str,
    who: Principal = Depends(scoped("payments:read")),
    db: Session = Depends(session),
) -> PaymentOut:
    return PaymentOut.model_validate(service.get_payment(db, who.tenant_id, payment_id))


@router.get("/{payment_id}/refunds", response_model=list[RefundOut])
def list_refunds(
    payment_id: str,
    who: Principal = Depends(scoped("payments:read")),
    db: Session = Depends(session),
) -> list[RefundOut]:
    return [RefundOut.model_validate(r)
            for r in service.list_refunds(db, who.tenant_id, payment_id)]


@router.post(
    "/provider-events", response_model=ProviderEventReceipt,
    summary="A payment provider's event (webhook), authenticated by its signature",
    description=(
        f"Signed by the provider: `{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body>`. "
        "Needs no API key; send no Idempotency-Key (the event id makes delivery idempotent: "
        "a replayed event is answered 200 and changes nothing). An event for a payment not yet "
        "known is a 404, so the provider delivers it again later."
    ),
)
def receive_provider_event(
    request: Request,
    body: bytes = Depends(raw_body),
    provider: str = Query("test", max_length=40),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> ProviderEventReceipt:
    event = service.parse_provider_event(provider, body, request.headers.get(SIGNATURE_HEADER))
    payment = service.handle_provider_event(db, now, event)
    return ProviderEventReceipt(
        id=str(event.get("id")), type=str(event.get("type")), processed=payment is not None,
        payment_id=payment.id if payment is not None else None,
    )
