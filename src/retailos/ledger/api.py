"""The ledger over HTTP, read-only: a tenant's accounts and the entries that touch them.

An entry that touches two tenants (a sale: the store and the operator) is visible to both, each
seeing only its own lines, which balance on their own.
"""

from __future__ import annotations

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from retailos.api.deps import scoped, session
from retailos.api.routing import make_router
from retailos.core.pagination import Page
from retailos.ledger import service
from retailos.ledger.schemas import AccountOut, EntryOut
from retailos.tenants.service import Principal

router = make_router("/v1/ledger", "ledger")


@router.get("/accounts", response_model=list[AccountOut],
            summary="The calling tenant's accounts with their balances")
def list_accounts(
    currency: str | None = Query(default=None, pattern=r"^[A-Z]{3}$"),
    who: Principal = Depends(scoped("ledger:read")),
    db: Session = Depends(session),
) -> list[AccountOut]:
    return [AccountOut.of(a) for a in service.accounts(db, who.tenant_id, currency)]


@router.get("/entries", response_model=Page[EntryOut],
            summary="Entries touching the caller's accounts, oldest first, with its lines")
def list_entries(
    cursor: str | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    ref: str | None = Query(default=None, max_length=100),
    who: Principal = Depends(scoped("ledger:read")),
    db: Session = Depends(session),
) -> Page[EntryOut]:
    views, next_cursor = service.list_entries(db, who.tenant_id, cursor, limit, ref)
    return Page[EntryOut](data=[EntryOut.of(v) for v in views], next_cursor=next_cursor)


@router.get("/entries/{entry_id}", response_model=EntryOut)
def get_entry(
    entry_id: str, who: Principal = Depends(scoped("ledger:read")), db: Session = Depends(session)
) -> EntryOut:
    return EntryOut.of(service.get_entry(db, who.tenant_id, entry_id))
