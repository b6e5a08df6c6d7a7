"""`retailos inventory ...`: release expired reservations, and audit stock against its history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.settings import get_settings

app = typer.Typer(help="Inventory: expire reservations, audit stock.", no_args_is_help=True)
console = Console()


def _database() -> Database:
    return Database(get_settings().database_url)


@app.command("expire-holds")
def expire_holds(
    batch: Annotated[int, typer.Option(help="Holds released per transaction")] = 1000,
) -> None:
    """Release every reservation past its expiry (all tenants), a batch per transaction."""
    from retailos.inventory import service

    db = _database()
    total = 0
    try:
        while True:
            with db.transaction() as s:
                released = service.expire_holds(s, SystemClock(), batch)
            total += released
            if released < batch:
                break
    finally:
        db.dispose()
    console.print(f"{total} expired hold(s) released")


@app.command("audit")
def audit(
    tenant: Annotated[str | None, typer.Option(help="Only this owner (ten_...)")] = None,
) -> None:
    """Recompute stock from movements and holds; exit 1 and list discrepancies if any."""
    from retailos.inventory import service

    db = _database()
    try:
        with db.transaction() as s:
            found = service.audit(s, tenant)
    finally:
        db.dispose()
    if found:
        for line in found:
            console.print(f"[red]FAIL[/red] {line}", soft_wrap=True)
        console.print(f"{len(found)} discrepancy(ies) found")
        raise typer.Exit(1)
    console.print("OK: every stock row equals its movements and open holds")
