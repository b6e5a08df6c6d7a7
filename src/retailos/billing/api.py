"""Billing over HTTP: fee schedules (set by the operator), statements, the operator's P&L.

A tenant reads its own schedules and statements; the operator may name any tenant with
`tenant_id`. Another tenant's id answers 404 for everyone else.
"""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from retailos.api.deps import clock, scoped, session
from retailos.api.routing import make_router
from retailos.billing import service
from retailos.billing.schemas import (
    FeeScheduleIn,
    FeeScheduleOut,
    FeeTermsOut,
    PnlOut,
    StatementOut,
)
from retailos.core.clock import Clock
from retailos.core.errors import Forbidden, NotFound
from retailos.tenants import service as tenants
from retailos.tenants.service import Principal

router = make_router("/v1/billing", "billing")
CURRENCY = r"^[A-Z]{3}$"


def _subject(who: Principal, tenant_id: str | None, db: Session) -> str:
    if tenant_id is None or tenant_id == who.tenant_id:
        return who.tenant_id
    if not who.is_operator:
        raise NotFound(f"no tenant {tenant_id}")
    return tenants.get_tenant(db, tenant_id).id


def _currency(db: Session, tenant_id: str, currency: str | None) -> str:
    return currency or tenants.get_tenant(db, tenant_id).default_currency


@router.get("/fee-schedules", response_model=list[FeeScheduleOut],
            summary="Fee schedule versions: the caller's, or any tenant's for the operator")
def list_fee_schedules(
    tenant_id: str | None = Query(default=None, max_length=40),
    who: Principal = Depends(scoped("billing:read")),
    db: Session = Depends(session),
) -> list[FeeScheduleOut]:
    subject = None if who.is_operator and tenant_id is None else _subject(who, tenant_id, db)
    return [FeeScheduleOut.model_validate(f) for f in service.list_fee_schedules(db, subject)]


@router.post("/fee-schedules", status_code=201, response_model=FeeScheduleOut,
             summary="Set a new fee schedule version for a tenant (operator only)")
def set_fee_schedule(
    body: FeeScheduleIn,
    who: Principal = Depends(scoped("billing:write")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> FeeScheduleOut:
    if not who.is_operator:
        raise Forbidden("only the operator sets fee schedules")
    schedule = service.set_fee_schedule(
        db, now, who.tenant_id, body.tenant_id, service=body.service, currency=body.currency,
        referral_bps=body.referral_bps, referral_min_per_item=body.referral_min_per_item,
        per_order=body.per_order, effective_from=body.effective_from,
    )
    return FeeScheduleOut.model_validate(schedule)


@router.get("/fee-terms", response_model=FeeTermsOut,
            summary="The fee terms in force now (a schedule, or the defaults)")
def current_terms(
    currency: str | None = Query(default=None, pattern=CURRENCY),
    tenant_id: str | None = Query(default=None, max_length=40),
    who: Principal = Depends(scoped("billing:read")),
    db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> FeeTermsOut:
    subject = _subject(who, tenant_id, db)
    cur = _currency(db, subject, currency)
    terms = service.terms(db, subject, cur, now.now())
    return FeeTermsOut.of(subject, service.MARKETPLACE, cur, terms,
                          is_default=terms is service.DEFAULT_TERMS)


@router.get("/statements/{period}", response_model=StatementOut,
            summary="A tenant's fees for one calendar month (UTC)")
def get_statement(
    period: str = Path(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"]),
    currency: str | None = Query(default=None, pattern=CURRENCY),
    tenant_id: str | None = Query(default=None, max_length=40),
    who: Principal = Depends(scoped("billing:read")),
    db: Session = Depends(session),
) -> StatementOut:
    subject = _subject(who, tenant_id, db)
    year, month = (int(x) for x in period.split("-"))
    st = service.statement(db, subject, year, month, _currency(db, subject, currency))
    return StatementOut.of(st)


@router.get("/pnl", response_model=PnlOut,
            summary="The operator's profit and loss by service line (operator only)")
def get_pnl(
    from_date: date = Query(alias="from"),
    to_date: date = Query(alias="to", description="Inclusive"),
    currency: str | None = Query(default=None, pattern=CURRENCY),
    who: Principal = Depends(scoped("billing:read")),
    db: Session = Depends(session),
) -> PnlOut:
    if not who.is_operator:
        raise Forbidden("only the operator reads the platform's profit and loss")
    cur = _currency(db, who.tenant_id, currency)
    return PnlOut.of(service.profit_and_loss(db, who.tenant_id, from_date, to_date, cur))
