"""`retailos billing`: a tenant's monthly statement and the operator's P&L, as tables."""

from __future__ import annotations

from datetime import date
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from retailos.core.db import Database
from retailos.core.errors import Problem
from retailos.core.settings import get_settings

app = typer.Typer(help="Fees, statements and profit and loss.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _database() -> Database:
    return Database(get_settings().database_url)


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _month(value: str) -> tuple[int, int]:
    try:
        year, month = (int(x) for x in value.split("-"))
    except ValueError:
        _fail("--month must be yyyy-mm, e.g. 2026-11")
    return year, month


@app.command("statement")
def statement(
    tenant: Annotated[str, typer.Option(help="Tenant id (ten_...)")],
    month: Annotated[str, typer.Option(help="yyyy-mm, e.g. 2026-11")],
    currency: Annotated[str | None, typer.Option(help="Default: the tenant's currency")] = None,
) -> None:
    """A tenant's fees for one month by service line."""
    from retailos.billing import service
    from retailos.tenants import service as tenants

    year, mon = _month(month)
    db = _database()
    try:
        with db.transaction() as s:
            cur = currency or tenants.get_tenant(s, tenant).default_currency
            st = service.statement(s, tenant, year, mon, cur)
    except Problem as e:
        _fail(e.detail)
    finally:
        db.dispose()
    table = Table(title=f"Statement {st.period} for {tenant} ({st.currency})")
    for column in ("service", "quantity", "charged", "refunded", "net"):
        table.add_column(column, justify="left" if column == "service" else "right")
    for x in st.lines:
        table.add_row(x.service, str(x.quantity), str(x.charged), str(x.refunded), str(x.net))
    table.add_row("total", "", str(st.total_fees), str(st.total_refunds), str(st.net),
                  style="bold")
    console.print(table)
    if st.reconciled:
        console.print(f"the ledger agrees: {st.ledger_fees} in platform fees")
    else:
        console.print(f"[red]the ledger booked {st.ledger_fees} in platform fees, "
                      f"metering {st.net}[/red]")


@app.command("pnl")
def pnl(
    from_: Annotated[str, typer.Option("--from", help="First day, yyyy-mm-dd")],
    to: Annotated[str, typer.Option("--to", help="Last day (inclusive), yyyy-mm-dd")],
    currency: Annotated[str | None, typer.Option(help="Default: the operator's currency")] = None,
) -> None:
    """The operator's profit and loss by service line for a period."""
    from retailos.billing import service
    from retailos.tenants import service as tenants

    try:
        start, end = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError:
        _fail("--from and --to must be dates, yyyy-mm-dd")
    db = _database()
    try:
        with db.transaction() as s:
            operator = tenants.operator_tenant(s)
            if operator is None:
                _fail("there is no operator tenant yet")
            p = service.profit_and_loss(s, operator.id, start, end,
                                        currency or operator.default_currency)
    except Problem as e:
        _fail(e.detail)
    finally:
        db.dispose()
    table = Table(title=f"Profit and loss {p.start} to {p.end} ({p.currency})")
    table.add_column("line")
    table.add_column("amount", justify="right")
    for row in p.revenue:
        table.add_row(f"revenue: {row.name}", str(row.amount))
    table.add_row("total revenue", str(p.total_revenue), style="bold")
    for row in p.costs:
        table.add_row(f"cost: {row.name}", str(-row.amount))
    table.add_row("total costs", str(-p.total_costs), style="bold")
    table.add_row("profit", str(p.profit), style="bold")
    console.print(table)
