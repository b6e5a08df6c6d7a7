"""Fee schedules, fee quotes, usage metering, monthly statements and the operator's P&L.

Fees for selling through the platform (service `marketplace`) are a referral fee of
`referral_bps` basis points of each line's price, at least `referral_min_per_item` minor units
per unit sold, plus `per_order` minor units per order. A tenant without a schedule pays the
DEFAULT_TERMS: 8% referral, at least 30 minor units per item, nothing per order. Rounding: the
percentage is taken of each line's total (quantity x unit price) and rounded half away from
zero (`Money.percent_of`), then compared with quantity x minimum; the order's referral fee is the
sum of its lines. Schedules are never edited: a new version with a later `effective_from` wins.

Usage records meter what was charged, per service line (`referral`, `order`, ...), idempotent
per (tenant, service, ref); a refunded fee is a usage record with a negative amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from retailos.billing.models import FeeSchedule, UsageRecord
from retailos.core.clock import Clock
from retailos.core.db import insert_once
from retailos.core.errors import Conflict, Forbidden, InvalidInput
from retailos.core.ids import new_id
from retailos.core.money import Money, check_currency
from retailos.ledger import service as ledger
from retailos.ledger.chart import CHART, SERVICE_LINES
from retailos.tenants import service as tenants

MARKETPLACE = "marketplace"
SERVICES = (MARKETPLACE,)
MAX_BPS = 10_000


@dataclass(frozen=True)
class FeeTerms:
    referral_bps: int
    referral_min_per_item: int
    per_order: int


DEFAULT_TERMS = FeeTerms(referral_bps=800, referral_min_per_item=30, per_order=0)


@dataclass(frozen=True)
class FeeQuote:
    referral: Money
    per_order: Money
    total: Money


@dataclass(frozen=True)
class StatementLine:
    service: str
    quantity: int
    charged: Money
    refunded: Money
    net: Money


@dataclass(frozen=True)
class Statement:
    tenant_id: str
    period: str  # yyyy-mm
    currency: str
    lines: list[StatementLine]
    total_fees: Money
    total_refunds: Money
    net: Money
    ledger_fees: Money  # the month's movement of the tenant's platform_fees account

    @property
    def reconciled(self) -> bool:
        """Metered fees and the fees in the ledger agree."""
        return self.net == self.ledger_fees


@dataclass(frozen=True)
class PnlRow:
    name: str  # a service line for revenue, an account code for costs
    amount: Money


@dataclass(frozen=True)
class ProfitAndLoss:
    tenant_id: str
    currency: str
    start: date
    end: date  # inclusive
    revenue: list[PnlRow]
    costs: list[PnlRow]
    total_revenue: Money
    total_costs: Money
    profit: Money


def _currency(code: str) -> str:
    try:
        return check_currency(code)
    except ValueError as e:
        raise InvalidInput(str(e), field="currency") from None


def _schedule_at(in_force: bool) -> Select[Any]:
    """The newest fee schedule of :tenant for :service in :currency; `in_force`: the newest
    that took effect by :at."""
    stmt = select(FeeSchedule).where(
        FeeSchedule.tenant_id == bindparam("tenant"), FeeSchedule.service == bindparam("service"),
        FeeSchedule.currency == bindparam("currency"),
    )
    if in_force:
        stmt = stmt.where(FeeSchedule.effective_from <= bindparam("at"))
    return stmt.order_by(FeeSchedule.effective_from.desc(), FeeSchedule.id.desc()).limit(1)


# Built once: every checkout quotes its fees, and building a select() and its cache key on each
# request costs more CPU than running it.
_NEWEST_SCHEDULE, _SCHEDULE_IN_FORCE = _schedule_at(False), _schedule_at(True)


def terms(
    session: Session, tenant_id: str, currency: str, at: datetime | None = None,
    service: str = MARKETPLACE,
) -> FeeTerms:
    """The terms in force at `at` (the newest schedule if None), or DEFAULT_TERMS. One query."""
    params = {"tenant": tenant_id, "service": service, "currency": currency}
    if at is None:
        found = session.scalars(_NEWEST_SCHEDULE, params).first()
    else:
        found = session.scalars(_SCHEDULE_IN_FORCE, {**params, "at": at}).first()
    if found is None:
        return DEFAULT_TERMS
    return FeeTerms(found.referral_bps, found.referral_min_per_item, found.per_order)


def quote_order_fees(
    session: Session, tenant_id: str, lines: Sequence[tuple[int, Money]],
    at: datetime | None = None,
) -> FeeQuote:
    """Fees for one order of (quantity, unit price) lines. One query at most.

    Pass `at` (the clock's now) to honour schedules dated in the future; without it the newest
    schedule applies.
    """
    if not lines:
        raise InvalidInput("an order needs at least one line", field="lines")
    currencies = {price.currency for _, price in lines}
    if len(currencies) != 1:
        raise InvalidInput(f"order lines mix currencies {sorted(currencies)}", field="lines")
    if any(qty <= 0 or price.amount < 0 for qty, price in lines):
        raise InvalidInput("quantities must be positive and prices not negative", field="lines")
    currency = currencies.pop()
    t = terms(session, tenant_id, currency, at)
    referral = 0
    for qty, price in lines:
        by_rate = (price * qty).percent_of(t.referral_bps).amount
        referral += max(by_rate, t.referral_min_per_item * qty)
    return FeeQuote(
        referral=Money(referral, currency), per_order=Money(t.per_order, currency),
        total=Money(referral + t.per_order, currency),
    )


def set_fee_schedule(
    session: Session, clock: Clock, operator_tenant_id: str, tenant_id: str, *,
    service: str = MARKETPLACE, currency: str, referral_bps: int, referral_min_per_item: int,
    per_order: int, effective_from: datetime | None = None,
) -> FeeSchedule:
    """A new schedule version for `tenant_id`, set by the operator."""
    if tenants.get_tenant(session, operator_tenant_id).kind != "operator":
        raise Forbidden("only the operator sets fee schedules")
    tenants.get_tenant(session, tenant_id)  # NotFound for an unknown tenant
    if service not in SERVICES:
        raise InvalidInput(f"service must be one of {list(SERVICES)}", field="service")
    if not 0 <= referral_bps <= MAX_BPS:
        raise InvalidInput(f"referral_bps must be 0 to {MAX_BPS}", field="referral_bps")
    if referral_min_per_item < 0 or per_order < 0:
        raise InvalidInput("fees must not be negative", field="per_order")
    if effective_from is not None and effective_from.tzinfo is None:
        raise InvalidInput("effective_from needs a time zone", field="effective_from")
    schedule = FeeSchedule(
        id=new_id("fee"), tenant_id=tenant_id, service=service, currency=_currency(currency),
        referral_bps=referral_bps, referral_min_per_item=referral_min_per_item,
        per_order=per_order, effective_from=effective_from or clock.now(),
        created_at=clock.now(), created_by=operator_tenant_id,
    )
    session.add(schedule)
    session.flush()
    return schedule


def list_fee_schedules(session: Session, tenant_id: str | None) -> list[FeeSchedule]:
    """Schedules of one tenant, or of every tenant (None; for the operator), oldest first."""
    stmt = select(FeeSchedule)
    if tenant_id is not None:
        stmt = stmt.where(FeeSchedule.tenant_id == tenant_id)
    return list(session.scalars(stmt.order_by(FeeSchedule.tenant_id, FeeSchedule.id)))


def record_usage(
    session: Session, clock: Clock, tenant_id: str, service: str, quantity: int, amount: Money,
    ref: str,
) -> None:
    """Meter one use of a service line; a replay with the same (tenant, service, ref) is a
    no-op, and one with other numbers is a Conflict."""
    if service not in SERVICE_LINES:
        raise InvalidInput(f"service must be one of {list(SERVICE_LINES)}", field="service")
    if not ref or len(ref) > 100:
        raise InvalidInput("ref must be 1 to 100 characters", field="ref")
    usage = UsageRecord(
        id=new_id("use"), tenant_id=tenant_id, service=service, ref=ref, quantity=quantity,
        amount=amount.amount, currency=amount.currency, recorded_at=clock.now(),
    )
    if insert_once(session, usage):
        return
    first = session.execute(
        select(UsageRecord.quantity, UsageRecord.amount, UsageRecord.currency).where(
            UsageRecord.tenant_id == tenant_id, UsageRecord.service == service,
            UsageRecord.ref == ref)
    ).one()
    if tuple(first) != (quantity, amount.amount, amount.currency):
        raise Conflict(f"usage {service}/{ref} was recorded with other numbers", ref=ref)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise InvalidInput("month must be yyyy-mm", field="month")
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def statement(session: Session, tenant_id: str, year: int, month: int, currency: str) -> Statement:
    """The tenant's fees of one calendar month (UTC) by service line, from the usage records:
    the quantity and amount charged, the fees refunded (records with negative amounts), net;
    and the fees the ledger booked to the tenant that month, which should be the same."""
    currency = _currency(currency)
    start, end = month_bounds(year, month)
    quantity = func.sum(case((UsageRecord.amount >= 0, UsageRecord.quantity), else_=0))
    charged = func.sum(case((UsageRecord.amount > 0, UsageRecord.amount), else_=0))
    refunded = func.sum(case((UsageRecord.amount < 0, -UsageRecord.amount), else_=0))
    rows = session.execute(
        select(UsageRecord.service, quantity, charged, refunded)
        .where(UsageRecord.tenant_id == tenant_id, UsageRecord.currency == currency,
               UsageRecord.recorded_at >= start, UsageRecord.recorded_at < end)
        .group_by(UsageRecord.service).order_by(UsageRecord.service)
    )
    lines = [
        StatementLine(service, int(qty), Money(int(c), currency), Money(int(r), currency),
                      Money(int(c) - int(r), currency))
        for service, qty, c, r in rows
    ]
    zero = Money.zero(currency)
    total = sum((line.charged for line in lines), zero)
    refunds = sum((line.refunded for line in lines), zero)
    in_ledger = ledger.movements(session, tenant_id, currency, start, end).get("platform_fees", 0)
    return Statement(tenant_id, f"{year:04d}-{month:02d}", currency, lines, total, refunds,
                     total - refunds, Money(in_ledger, currency))


def profit_and_loss(
    session: Session, operator_tenant_id: str, start: date, end: date, currency: str
) -> ProfitAndLoss:
    """The operator's income by service line and its costs by account, from the ledger, for
    the days `start` to `end` inclusive (UTC)."""
    currency = _currency(currency)
    if end < start:
        raise InvalidInput("the period ends before it starts", field="to")
    if end >= date.max:
        raise InvalidInput("the period must end before 9999-12-31", field="to")
    moved = ledger.movements(
        session, operator_tenant_id, currency,
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1),
    )
    revenue: dict[str, int] = {}
    costs: dict[str, int] = {}
    for code, amount in moved.items():
        kind = CHART[code].kind
        line = CHART[code].pnl_line or code
        if kind in ("income", "contra_income"):
            revenue[line] = revenue.get(line, 0) - amount  # credits are income
        elif kind == "expense":
            costs[line] = costs.get(line, 0) + amount
    rev = [PnlRow(k, Money(v, currency)) for k, v in sorted(revenue.items())]
    cost = [PnlRow(k, Money(v, currency)) for k, v in sorted(costs.items())]
    total_rev = Money(sum(revenue.values()), currency)
    total_cost = Money(sum(costs.values()), currency)
    return ProfitAndLoss(operator_tenant_id, currency, start, end, rev, cost, total_rev,
                         total_cost, total_rev - total_cost)
