"""API shapes for the ledger. Amounts are signed integers in minor units: debit positive."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from retailos.ledger.service import AccountBalance, EntryView


class AccountOut(BaseModel):
    code: str
    currency: str
    normal_side: str = Field(description="debit or credit")
    balance: int = Field(description="Signed minor units: debit positive, credit negative")
    normal_balance: int = Field(description="The balance read on the account's normal side")

    @classmethod
    def of(cls, a: AccountBalance) -> AccountOut:
        normal = a.balance if a.normal_side == "debit" else -a.balance
        return cls(code=a.code, currency=a.currency, normal_side=a.normal_side,
                   balance=a.balance, normal_balance=normal)


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    line_no: int
    account: str
    amount: int = Field(description="Signed minor units: debit positive, credit negative")


class EntryOut(BaseModel):
    id: str
    originator_tenant_id: str
    ref: str
    kind: str
    memo: str
    currency: str
    created_at: datetime
    reverses_id: str | None
    lines: list[LineOut] = Field(description="Only the calling tenant's lines; they balance")

    @classmethod
    def of(cls, view: EntryView) -> EntryOut:
        e = view.entry
        return cls(id=e.id, originator_tenant_id=e.tenant_id, ref=e.ref, kind=e.kind,
                   memo=e.memo, currency=e.currency, created_at=e.created_at,
                   reverses_id=e.reverses_id,
                   lines=[LineOut.model_validate(line) for line in view.lines])
