"""Fee schedules (append-only versions by effective date) and metered usage records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailos.core.db import Base, id_column, tenant_column


class FeeSchedule(Base):
    __tablename__ = "fee_schedules"
    __table_args__ = (
        Index("ix_fee_schedules_lookup", "tenant_id", "service", "currency", "effective_from"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()  # the tenant that pays these fees
    service: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    referral_bps: Mapped[int]
    referral_min_per_item: Mapped[int]  # minor units
    per_order: Mapped[int]  # minor units
    effective_from: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(40))  # the operator tenant that set it


class UsageRecord(Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "service", "ref"),
        Index("ix_usage_records_period", "tenant_id", "currency", "recorded_at"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    service: Mapped[str] = mapped_column(String(40))  # service line: referral, order, ...
    ref: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    amount: Mapped[int]  # minor units; negative for fees refunded
    currency: Mapped[str] = mapped_column(String(3))
    recorded_at: Mapped[datetime]
