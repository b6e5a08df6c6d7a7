"""Payment, refund and processed-provider-event tables (our side of the processor)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailos.core.db import Base, id_column, tenant_column

PAYMENT_STATUSES = (
    "pending_confirmation", "authorized", "captured", "partially_refunded", "refunded", "voided",
    "failed",
)
KEY_LENGTH = 255


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("provider", "provider_ref"),
        Index("ix_payments_tenant_ref", "tenant_id", "ref"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    ref: Mapped[str] = mapped_column(String(100))  # what is paid for, e.g. an order group id
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    captured_amount: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    processing_fee: Mapped[int] = mapped_column(default=0)  # the processor's charge on capture
    status: Mapped[str] = mapped_column(String(24))
    provider: Mapped[str] = mapped_column(String(40))
    provider_ref: Mapped[str] = mapped_column(String(60))
    card_last4: Mapped[str] = mapped_column(String(4))
    failure_code: Mapped[str | None] = mapped_column(String(60), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Refund(Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # succeeded
    provider_ref: Mapped[str | None] = mapped_column(String(60), default=None)
    created_at: Mapped[datetime]


class ProcessedProviderEvent(Base):
    """A provider event we have acted on: its id is accepted once, so replays are no-ops."""

    __tablename__ = "processed_provider_events"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    tenant_id: Mapped[str | None] = mapped_column(String(40), default=None)
    payment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    received_at: Mapped[datetime]
