"""API shapes for webhook subscriptions and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryStatus = Literal["pending", "failed", "succeeded", "dead"]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000, examples=["https://example.com/hooks"])
    event_types: list[str] = Field(
        min_length=1, max_length=50,
        description="Exact names (`order.created`), prefix patterns (`order.*`) or `*`.",
        examples=[["order.*", "payment.authorized"]],
    )
    description: str = Field(default="", max_length=200)


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    tenant_id: str
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="The signing secret. Shown once; store it now.")


class SubscriptionPage(BaseModel):
    data: list[SubscriptionOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_response_ms: int | None
    created_at: datetime
    completed_at: datetime | None


class DeliveryPage(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None = None


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    error: str | None
    response_ms: int


class DeliveryDetailOut(DeliveryOut):
    attempt_log: list[AttemptOut]


class TestEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    type: str
    created_at: datetime
