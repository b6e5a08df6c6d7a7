"""API shapes for billing. Amounts are integers in the currency's minor unit."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from retailos.billing.service import (
    MAX_BPS,
    FeeTerms,
    ProfitAndLoss,
    Statement,
)
from retailos.core.money import check_currency


class FeeScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: str = Field(min_length=1, max_length=40, description="The tenant that pays")
    service: str = Field(default="marketplace", max_length=40)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])
    referral_bps: int = Field(ge=0, le=MAX_BPS, description="Referral fee in basis points")
    referral_min_per_item: int = Field(ge=0, le=10**9, description="Minimum per unit, minor units")
    per_order: int = Field(ge=0, le=10**9, description="Per order, minor units")
    effective_from: datetime | None = Field(default=None, description="Default: now")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("effective_from")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-01T00:00:00Z")
        return value


class FeeScheduleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    tenant_id: str
    service: str
    currency: str
    referral_bps: int
    referral_min_per_item: int
    per_order: int
    effective_from: datetime
    created_at: datetime


class FeeTermsOut(BaseModel):
    tenant_id: str
    service: str
    currency: str
    referral_bps: int
    referral_min_per_item: int
    per_order: int
    is_default: bool

    @classmethod
    def of(cls, tenant_id: str, service: str, currency: str, terms: FeeTerms,
           is_default: bool) -> FeeTermsOut:
        return cls(tenant_id=tenant_id, service=service, currency=currency,
                   referral_bps=terms.referral_bps,
                   referral_min_per_item=terms.referral_min_per_item,
                   per_order=terms.per_order, is_default=is_default)


class StatementLineOut(BaseModel):
    service: str
    quantity: int
    charged: int
    refunded: int
    net: int


class StatementOut(BaseModel):
    tenant_id: str
    period: str
    currency: str
    lines: list[StatementLineOut]
    total_fees: int
    total_refunds: int
    net: int
    ledger_fees: int = Field(description="Fees the ledger booked to the tenant this month")
    reconciled: bool = Field(description="True when metered fees equal the ledger's")

    @classmethod
    def of(cls, st: Statement) -> StatementOut:
        return cls(
            tenant_id=st.tenant_id, period=st.period, currency=st.currency,
            lines=[StatementLineOut(service=x.service, quantity=x.quantity,
                                    charged=x.charged.amount, refunded=x.refunded.amount,
                                    net=x.net.amount) for x in st.lines],
            total_fees=st.total_fees.amount, total_refunds=st.total_refunds.amount,
            net=st.net.amount, ledger_fees=st.ledger_fees.amount, reconciled=st.reconciled,
        )


class PnlRowOut(BaseModel):
    name: str
    amount: int


class PnlOut(BaseModel):
    tenant_id: str
    currency: str
    from_date: date = Field(serialization_alias="from")
    to_date: date = Field(serialization_alias="to", description="Inclusive")
    revenue: list[PnlRowOut] = Field(description="Income by service line")
    costs: list[PnlRowOut] = Field(description="Expenses by account")
    total_revenue: int
    total_costs: int
    profit: int

    @classmethod
    def of(cls, p: ProfitAndLoss) -> PnlOut:
        return cls(
            tenant_id=p.tenant_id, currency=p.currency, from_date=p.start, to_date=p.end,
            revenue=[PnlRowOut(name=r.name, amount=r.amount.amount) for r in p.revenue],
            costs=[PnlRowOut(name=r.name, amount=r.amount.amount) for r in p.costs],
            total_revenue=p.total_revenue.amount, total_costs=p.total_costs.amount,
            profit=p.profit.amount,
        )
