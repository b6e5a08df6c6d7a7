"""Outbox events of payments and their payloads."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.outbox import publish
from retailos.payments.models import Payment, Refund

PAYMENT_AUTHORIZED = "payment.authorized"
PAYMENT_CAPTURED = "payment.captured"
PAYMENT_REFUNDED = "payment.refunded"
PAYMENT_VOIDED = "payment.voided"
PAYMENT_FAILED = "payment.failed"


def payment_payload(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.id, "ref": payment.ref, "status": payment.status,
        "amount": payment.amount, "currency": payment.currency,
        "captured_amount": payment.captured_amount, "refunded_amount": payment.refunded_amount,
        "processing_fee": payment.processing_fee,
        "provider": payment.provider, "failure_code": payment.failure_code,
    }


def publish_payment(session: Session, clock: Clock, type: str, payment: Payment,
                    refund: Refund | None = None) -> None:
    payload = payment_payload(payment)
    if refund is not None:
        payload["refund"] = {"refund_id": refund.id, "amount": refund.amount,
                             "reason": refund.reason}
    publish(session, clock, payment.tenant_id, type, payload)
