"""Ledger tables: accounts with running balances, journal entries and their lines.

Entries and lines are append-only: the ORM refuses to update or delete them (a mistake is
corrected by a reversing entry), and `service.check` proves the stored balances from the lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from retailos.core.db import Base, id_column, tenant_column


class LedgerAccount(Base):
    """One shard of an account (tenant, code, currency): its balance is the sum over shards."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "code", "currency", "shard"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    code: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    normal_side: Mapped[str] = mapped_column(String(6))
    shard: Mapped[int] = mapped_column(default=0)  # which of the account's rows (service.SHARDS)
    balance: Mapped[int] = mapped_column(default=0)  # signed: debit positive
    created_at: Mapped[datetime]


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()  # who originated the entry
    ref: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]
    # At most one reversal per entry: the unique constraint settles concurrent reversals.
    reverses_id: Mapped[str | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True, default=None
    )


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        Index("ix_journal_lines_tenant_entry", "tenant_id", "entry_id"),
        Index("ix_journal_lines_account_id", "account_id"),
    )

    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))  # the account's owner
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    account: Mapped[str] = mapped_column(String(60))  # the account's code, kept for reading
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]  # signed: debit positive, credit negative


def _append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError(
        f"{type(target).__name__} rows are append-only; post a reversing entry instead"
    )


for _model in (JournalEntry, JournalLine):
    event.listen(_model, "before_update", _append_only)
    event.listen(_model, "before_delete", _append_only)
