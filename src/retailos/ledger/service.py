"""Posting, reversing and checking journal entries: the only code that writes the ledger tables.

`post` takes the caller's session and never commits, so an entry lands in the same transaction
as the business change that caused it. The touched accounts are row-locked in id order, then
their running balances move in one guarded atomic `UPDATE ... SET balance = balance + CASE ...`
(never read-modify-write): concurrent postings queue on shared accounts and cannot deadlock.
The entry and its lines are written at once, an INSERT each, past the ORM's unit of work: the
entry `post` returns is not in the session (it is never changed anyway).

Each account is SHARDS rows, its balance their sum. An entry posts to the shard its ref picks,
so postings of different orders rarely queue on one row: the operator's accounts, which every
sale of every store moves, are not a global lock.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, case, func, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from retailos.core.clock import Clock
from retailos.core.db import insert_rows, upsert_insert
from retailos.core.errors import Conflict, InvalidInput, NotFound
from retailos.core.ids import new_id
from retailos.core.money import Money
from retailos.core.pagination import paginate
from retailos.ledger.chart import CHART
from retailos.ledger.models import JournalEntry, JournalLine, LedgerAccount

REVERSAL = "reversal"
SHARDS = 8  # rows per account: how many postings to one account can proceed at once


def shard_of(ref: str) -> int:
    """The shard an entry with `ref` posts to: the same for an entry and its reversal."""
    return zlib.crc32(ref.encode()) % SHARDS


@dataclass(frozen=True)
class LineDraft:
    """One line to post: an account of `owner_tenant_id`, a signed amount (debit positive)."""

    owner_tenant_id: str
    account: str
    amount: Money


@dataclass(frozen=True)
class AccountBalance:
    tenant_id: str
    code: str
    currency: str
    normal_side: str
    balance: int


@dataclass(frozen=True)
class EntryView:
    """An entry as one tenant sees it: the entry and that tenant's lines of it."""

    entry: JournalEntry
    lines: list[JournalLine]


def _validate(lines: Sequence[LineDraft]) -> str:
    if len(lines) < 2:
        raise InvalidInput("an entry needs at least two lines", field="lines")
    currencies = {line.amount.currency for line in lines}
    if len(currencies) != 1:
        raise InvalidInput(
            f"all lines of an entry must share one currency, got {sorted(currencies)}",
            field="lines",
        )
    per_owner: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.account not in CHART:
            raise InvalidInput(f"unknown account code {line.account!r}", field="account")
        if line.amount.amount == 0:
            raise InvalidInput("a line must move a non-zero amount", field="amount")
        if not line.owner_tenant_id:
            raise InvalidInput("a line needs the tenant that owns its account", field="owner")
        per_owner[line.owner_tenant_id] += line.amount.amount
    if sum(per_owner.values()) != 0:
        raise InvalidInput("the entry does not balance: debits must equal credits", field="lines")
    unbalanced = sorted(owner for owner, total in per_owner.items() if total)
    if unbalanced:
        raise InvalidInput(
            f"the entry does not balance within the books of {', '.join(unbalanced)}; "
            "route money between tenants through cash_clearing and owed_to_tenants",
            field="lines",
        )
    return currencies.pop()


def _lock_accounts(
    session: Session, currency: str, shard: int, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Ids of the `shard` rows of the accounts (tenant, code) `keys`, row-locked in id order, if
    every one of them exists; if any is missing, nothing is locked and nothing returned."""
    rows = session.execute(_LOCK_ACCOUNTS, {
        "currency": currency, "shard": shard, "keys": list(keys), "count": len(keys)})
    return {(row.tenant_id, row.code): row.id for row in rows}


def _lock_accounts_statement() -> Select[str, str, str]:
    """The rows of the accounts :keys in :currency and :shard, locked in id order, only if all
    :count of them exist. Built once: every posting runs it."""
    wanted = (
        (LedgerAccount.currency == bindparam("currency"))
        & (LedgerAccount.shard == bindparam("shard"))
        & tuple_(LedgerAccount.tenant_id, LedgerAccount.code).in_(
            bindparam("keys", expanding=True))
    )
    existing = select(func.count()).select_from(LedgerAccount).where(wanted).scalar_subquery()
    return (
        select(LedgerAccount.tenant_id, LedgerAccount.code, LedgerAccount.id)
        .where(wanted, existing == bindparam("count"))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )


_LOCK_ACCOUNTS = _lock_accounts_statement()


def _create_accounts(
    session: Session, clock: Clock, currency: str, keys: Sequence[tuple[str, str]]
) -> None:
    """Open accounts on first use, every shard at once; one that a concurrent transaction
    opened is left alone."""
    now = clock.now()
    rows = [
        {"id": new_id("acc"), "tenant_id": t, "code": c, "currency": currency, "shard": shard,
         "normal_side": CHART[c].normal_side, "balance": 0, "created_at": now}
        for t, c in sorted(keys) for shard in range(SHARDS)
    ]
    session.execute(upsert_insert(session, LedgerAccount).values(rows).on_conflict_do_nothing())


def _move_balances(
    session: Session, clock: Clock, currency: str, shard: int, deltas: dict[tuple[str, str], int]
) -> dict[tuple[str, str], str]:
    """Add each delta to its account's `shard` row in one guarded atomic UPDATE; return the ids
    of the rows.

    The rows are locked in id order, so two postings that share accounts queue instead of
    deadlocking. The lock is all or nothing: a posting that finds an account missing opens the
    accounts while it holds no ledger lock, then locks them all. (Holding the existing ones
    while opening could close a cycle with a posting that locks a new account of lower id
    first.) Opening happens in the posting's own transaction, so any wait it meets is one
    PostgreSQL can see. Steady state: two statements, however many accounts, and no INSERT.
    """
    keys = list(deltas)
    ids = _lock_accounts(session, currency, shard, keys)
    if not ids:
        _create_accounts(session, clock, currency, keys)
        ids = _lock_accounts(session, currency, shard, keys)
    table = cast(Table, LedgerAccount.__table__)
    moved = session.execute(
        update(table)
        .where(table.c.id.in_(list(ids.values())))
        .values(balance=table.c.balance + case(
            {ids[key]: delta for key, delta in deltas.items()}, value=table.c.id, else_=0))
    )
    if getattr(moved, "rowcount", len(ids)) != len(deltas):
        raise RuntimeError("ledger accounts changed under a posting")  # the guard: never partial
    return ids


def _post(
    session: Session, clock: Clock, tenant_id: str, ref: str, kind: str, memo: str,
    lines: Sequence[LineDraft], reverses_id: str | None = None,
) -> JournalEntry:
    if not 1 <= len(ref) <= 100 or not 1 <= len(kind) <= 40:
        raise InvalidInput("ref must be 1 to 100 characters and kind 1 to 40", field="ref")
    currency = _validate(lines)
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        deltas[(line.owner_tenant_id, line.account)] += line.amount.amount
    account_ids = _move_balances(session, clock, currency, shard_of(ref), deltas)
    entry = JournalEntry(
        id=new_id("jrn"), tenant_id=tenant_id, ref=ref, kind=kind, memo=memo[:500],
        currency=currency, created_at=clock.now(), reverses_id=reverses_id,
    )
    insert_rows(session, [entry, *(
        JournalLine(
            entry_id=entry.id, line_no=n, tenant_id=line.owner_tenant_id,
            account_id=account_ids[(line.owner_tenant_id, line.account)], account=line.account,
            currency=currency, amount=line.amount.amount,
        )
        for n, line in enumerate(lines, start=1)
    )])
    return entry


def post(
    session: Session, clock: Clock, tenant_id: str, ref: str, kind: str, memo: str,
    lines: Sequence[LineDraft],
) -> JournalEntry:
    """Post one balanced entry originated by `tenant_id`.

    Raises InvalidInput if there are fewer than two lines, a zero line, mixed currencies, an
    unknown account code, or if the lines do not sum to zero, in total and for each tenant.
    """
    if kind == REVERSAL:
        raise InvalidInput("use reverse() to post a reversal", field="kind")
    return _post(session, clock, tenant_id, ref, kind, memo, lines)


def _visible_entry(session: Session, tenant_id: str, entry_id: str) -> JournalEntry:
    """The entry, row-locked so that concurrent reversals of it queue (the later one then
    finds the first and gets a Conflict); NotFound unless the tenant is part of it."""
    stmt = select(JournalEntry).where(JournalEntry.id == entry_id).with_for_update()
    entry = session.scalars(stmt).first()
    if entry is None:
        raise NotFound(f"no journal entry {entry_id}")
    if entry.tenant_id != tenant_id:
        touches = session.scalar(
            select(func.count()).select_from(JournalLine)
            .where(JournalLine.entry_id == entry_id, JournalLine.tenant_id == tenant_id)
        )
        if not touches:
            raise NotFound(f"no journal entry {entry_id}")
    return entry


def reverse(
    session: Session, clock: Clock, tenant_id: str, entry_id: str, memo: str
) -> JournalEntry:
    """Post the exact opposite of an entry. Any tenant the entry touches may reverse it, once;
    a reversal itself is not reversed (post a new entry instead)."""
    original = _visible_entry(session, tenant_id, entry_id)
    if original.kind == REVERSAL:
        raise Conflict(f"{entry_id} is a reversal; post a new entry instead", entry_id=entry_id)
    already = session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id))
    if already is not None:
        raise Conflict(f"{entry_id} was already reversed by {already}", reversed_by=already)
    lines = session.scalars(
        select(JournalLine).where(JournalLine.entry_id == entry_id).order_by(JournalLine.line_no)
    )
    drafts = [
        LineDraft(line.tenant_id, line.account, Money(-line.amount, line.currency))
        for line in lines
    ]
    return _post(session, clock, tenant_id, original.ref, REVERSAL, memo, drafts,
                 reverses_id=original.id)


def accounts(session: Session, tenant_id: str, currency: str | None = None) -> list[AccountBalance]:
    """The tenant's accounts with their balances, each summed over its shards."""
    columns = (LedgerAccount.tenant_id, LedgerAccount.code, LedgerAccount.currency,
               LedgerAccount.normal_side)
    stmt = select(*columns, func.sum(LedgerAccount.balance)).where(
        LedgerAccount.tenant_id == tenant_id)
    if currency is not None:
        stmt = stmt.where(LedgerAccount.currency == currency)
    rows = session.execute(stmt.group_by(*columns).order_by(LedgerAccount.currency,
                                                            LedgerAccount.code))
    return [AccountBalance(t, c, cur, side, int(total)) for t, c, cur, side, total in rows]


def balances(session: Session, tenant_id: str, currency: str | None = None) -> dict[str, Money]:
    """Account code -> signed balance (debit positive) of one tenant in one currency.

    Without `currency`, the tenant's only currency; InvalidInput if it holds several.
    """
    found = accounts(session, tenant_id, currency)
    currencies = {a.currency for a in found}
    if len(currencies) > 1:
        raise InvalidInput(
            f"tenant {tenant_id} has accounts in {sorted(currencies)}; name a currency",
            field="currency",
        )
    return {a.code: Money(a.balance, a.currency) for a in found}


def _with_lines(
    session: Session, tenant_id: str, entries: Sequence[JournalEntry]
) -> list[EntryView]:
    if not entries:
        return []
    lines = session.scalars(
        select(JournalLine)
        .where(JournalLine.entry_id.in_([e.id for e in entries]),
               JournalLine.tenant_id == tenant_id)
        .order_by(JournalLine.entry_id, JournalLine.line_no)
    )
    by_entry: dict[str, list[JournalLine]] = defaultdict(list)
    for line in lines:
        by_entry[line.entry_id].append(line)
    return [EntryView(e, by_entry[e.id]) for e in entries]


def _entries_touching(tenant_id: str) -> Select[Any]:
    touched = select(JournalLine.entry_id).where(JournalLine.tenant_id == tenant_id)
    return select(JournalEntry).where(JournalEntry.id.in_(touched))


def list_entries(
    session: Session, tenant_id: str, cursor: str | None = None, limit: int = 50,
    ref: str | None = None,
) -> tuple[list[EntryView], str | None]:
    """Entries that touch the tenant's accounts, oldest first, each with only its lines."""
    stmt = _entries_touching(tenant_id)
    if ref is not None:
        stmt = stmt.where(JournalEntry.ref == ref)
    entries, next_cursor = paginate(session, stmt, JournalEntry.id, cursor, limit)
    return _with_lines(session, tenant_id, entries), next_cursor


def get_entry(session: Session, tenant_id: str, entry_id: str) -> EntryView:
    entry = session.scalars(_entries_touching(tenant_id).where(JournalEntry.id == entry_id)).first()
    if entry is None:
        raise NotFound(f"no journal entry {entry_id}")
    return _with_lines(session, tenant_id, [entry])[0]


def movements(
    session: Session, tenant_id: str, currency: str, start: datetime, end: datetime
) -> dict[str, int]:
    """Account code -> net signed movement of the tenant's accounts in [start, end)."""
    rows = session.execute(
        select(JournalLine.account, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.tenant_id == tenant_id, JournalLine.currency == currency,
               JournalEntry.created_at >= start, JournalEntry.created_at < end)
        .group_by(JournalLine.account)
    )
    return {code: int(total) for code, total in rows}


def check(session: Session) -> list[str]:
    """Problems found in the whole ledger; [] means every entry balances (in total and per
    tenant) in one currency with at least two lines, every reversal negates its entry line by
    line, and every stored balance equals the sum of its account's lines.

    Each query reads one snapshot, and an entry's lines commit together, so postings running
    meanwhile cannot produce a false alarm."""
    problems: list[str] = []
    unbalanced = session.execute(
        select(JournalLine.entry_id, func.sum(JournalLine.amount))
        .group_by(JournalLine.entry_id).having(func.sum(JournalLine.amount) != 0)
        .order_by(JournalLine.entry_id)
    )
    problems += [f"entry {e} does not balance: lines sum to {s}" for e, s in unbalanced]
    per_tenant = session.execute(
        select(JournalLine.entry_id, JournalLine.tenant_id, func.sum(JournalLine.amount))
        .group_by(JournalLine.entry_id, JournalLine.tenant_id)
        .having(func.sum(JournalLine.amount) != 0)
        .order_by(JournalLine.entry_id, JournalLine.tenant_id)
    )
    problems += [f"entry {e} does not balance for tenant {t}: its lines sum to {s}"
                 for e, t, s in per_tenant]
    line_count = (
        select(JournalLine.entry_id, func.count().label("n"))
        .group_by(JournalLine.entry_id).subquery()
    )
    short = session.execute(
        select(JournalEntry.id, func.coalesce(line_count.c.n, 0))
        .outerjoin(line_count, line_count.c.entry_id == JournalEntry.id)
        .where(func.coalesce(line_count.c.n, 0) < 2).order_by(JournalEntry.id)
    )
    problems += [f"entry {e} has {n} line(s); an entry needs at least two" for e, n in short]
    mismatched = session.execute(
        select(JournalLine.entry_id, JournalLine.line_no)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where((JournalLine.currency != JournalEntry.currency)
               | (LedgerAccount.currency != JournalLine.currency)
               | (LedgerAccount.tenant_id != JournalLine.tenant_id)
               | (LedgerAccount.code != JournalLine.account))
        .order_by(JournalLine.entry_id, JournalLine.line_no)
    )
    problems += [f"entry {e} line {n} disagrees with its entry or account "
                 "(currency, tenant or code)" for e, n in mismatched]
    original = aliased(JournalLine)
    reversal_entry = aliased(JournalEntry)
    unfaithful = session.execute(
        select(JournalLine.entry_id, JournalLine.line_no)
        .join(reversal_entry, reversal_entry.id == JournalLine.entry_id)
        .outerjoin(original, (original.entry_id == reversal_entry.reverses_id)
                   & (original.line_no == JournalLine.line_no))
        .where(reversal_entry.reverses_id.is_not(None),
               original.entry_id.is_(None) | (original.amount != -JournalLine.amount)
               | (original.account_id != JournalLine.account_id))
        .order_by(JournalLine.entry_id, JournalLine.line_no)
    )
    problems += [f"reversal {e} line {n} is not the negation of the entry it reverses"
                 for e, n in unfaithful]
    sums = (
        select(JournalLine.account_id, func.sum(JournalLine.amount).label("total"))
        .group_by(JournalLine.account_id).subquery()
    )
    drifted = session.execute(
        select(LedgerAccount.id, LedgerAccount.tenant_id, LedgerAccount.code,
               LedgerAccount.currency, LedgerAccount.balance, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != func.coalesce(sums.c.total, 0))
        .order_by(LedgerAccount.id)
    )
    problems += [
        f"account {a} ({t} {c} {cur}) holds balance {b} but its lines sum to {s}"
        for a, t, c, cur, b, s in drifted
    ]
    return problems


def totals(session: Session) -> tuple[int, int, int]:
    """How many entries, lines and accounts (not shard rows) the ledger holds."""
    accounts = select(LedgerAccount.tenant_id, LedgerAccount.code, LedgerAccount.currency
                      ).distinct().subquery()
    return (
        session.scalar(select(func.count()).select_from(JournalEntry)) or 0,
        session.scalar(select(func.count()).select_from(JournalLine)) or 0,
        session.scalar(select(func.count()).select_from(accounts)) or 0,
    )
