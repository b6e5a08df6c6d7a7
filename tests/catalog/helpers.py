"""Helpers shared by the catalogue tests: a statement counter and a quickly stocked shelf."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from retailos.catalog import service
from retailos.catalog.service import VariantDraft
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.tenants import service as tenants


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit transaction start
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def tenant(session: Session, clock: ManualClock, name: str) -> str:
    return tenants.create_tenant(session, clock, "retailer", name).id


def stock_shelf(session: Session, clock: ManualClock, tenant_id: str, n: int) -> list[str]:
    """n products of one variant each, priced in USD (i * 100 cents); returns variant ids."""
    ids = []
    for i in range(1, n + 1):
        product = service.create_product(
            session, clock, tenant_id, title=f"Item {i}", variants=[VariantDraft(
                sku=f"S{i}", package_size="16 OZ", prices={"USD": i * 100})],
        )
        ids.append(product.variants[0].id)
    return ids
