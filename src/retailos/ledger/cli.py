"""`retailos ledger`: prove the books balance, and show a tenant's balances."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from retailos.core.db import Database
from retailos.core.settings import get_settings

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
console = Console()


def _database() -> Database:
    return Database(get_settings().database_url)


@app.command("check")
def check() -> None:
    """Verify every entry balances and every balance equals the sum of its lines; exit 1 if not."""
    from retailos.ledger import service

    db = _database()
    try:
        with db.transaction() as s:
            problems = service.check(s)
            entries, lines, accounts = service.totals(s)
    finally:
        db.dispose()
    if problems:
        for problem in problems:
            console.print(f"[red]FAIL[/red] {problem}", soft_wrap=True)
        console.print(f"{len(problems)} problem(s) found")
        raise typer.Exit(1)
    console.print(f"OK: {entries} entries, {lines} lines, {accounts} accounts; every entry "
                  "balances and every balance equals the sum of its lines", soft_wrap=True)


@app.command("balances")
def balances(
    tenant: Annotated[str, typer.Option(help="Tenant id (ten_...)")],
    currency: Annotated[str | None, typer.Option(help="Only this ISO currency")] = None,
) -> None:
    """A tenant's accounts: each balance read on its normal side, and signed (debit +)."""
    from retailos.core.money import Money
    from retailos.ledger import service

    db = _database()
    try:
        with db.transaction() as s:
            found = service.accounts(s, tenant, currency)
    finally:
        db.dispose()
    table = Table(title=f"Ledger balances of {tenant}")
    table.add_column("account")
    table.add_column("normal side")
    table.add_column("balance", justify="right")
    table.add_column("signed (debit +)", justify="right")
    for a in found:
        normal = a.balance if a.normal_side == "debit" else -a.balance
        table.add_row(a.code, a.normal_side, str(Money(normal, a.currency)),
                      str(Money(a.balance, a.currency)))
    console.print(table)
