"""API shapes for payments and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PaymentStatus = Literal[
    "pending_confirmation", "authorized", "captured", "partially_refunded", "refunded", "voided",
    "failed",
]


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    tenant_id: str
    ref: str
    amount: int
    currency: str
    captured_amount: int
    refunded_amount: int
    processing_fee: int = Field(description="what the processor kept of the capture as its "
                                            "charge, in minor units (kept after refunds)")
    status: PaymentStatus
    provider: str
    provider_ref: str
    card_last4: str
    failure_code: str | None
    created_at: datetime
    updated_at: datetime


class PaymentPage(BaseModel):
    data: list[PaymentOut]
    next_cursor: str | None = None


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    payment_id: str
    amount: int
    currency: str
    reason: str
    status: str
    created_at: datetime


class ProviderEventReceipt(BaseModel):
    id: str
    type: str
    processed: bool  # false when the event was a replay or of a type we do not act on
    payment_id: str | None = None
