"""`retailos catalog import completejourney --tenant ten_...`: load the grocery catalogue."""

from __future__ import annotations

import time
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.errors import Problem
from retailos.core.settings import get_settings

app = typer.Typer(help="The catalogue: products, variants, categories, prices.",
                  no_args_is_help=True)
import_app = typer.Typer(help="Import catalogues from public data.", no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console()
errors = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code=2)


@import_app.command("completejourney")
def import_completejourney(
    tenant: Annotated[str, typer.Option(help="The tenant that will own the products (ten_...)")],
    limit: Annotated[int | None, typer.Option(
        min=1, help="Only the first N products by Complete Journey id")] = None,
) -> None:
    """Load the Complete Journey grocery catalogue (92,331 products). Running it again creates
    nothing and brings changed products up to date."""
    from retailos.catalog.completejourney import import_catalogue
    from retailos.tenants.service import get_tenant

    db = Database(get_settings().database_url)
    started = time.perf_counter()
    try:
        with db.transaction() as s:
            get_tenant(s, tenant)  # before the progress bar: an unknown tenant is one line
        result = import_catalogue(db, SystemClock(), tenant, limit=limit, console=console)
    except Problem as e:
        _fail(e.detail)
    except (OperationalError, ProgrammingError) as e:
        _fail(f"the database is not ready ({str(e.orig).strip()}); run `retailos db upgrade`")
    finally:
        db.dispose()
    seconds = time.perf_counter() - started
    console.print(
        f"{result.total:,} products: {result.created:,} created, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged in {seconds:.1f} s "
        f"({result.total / seconds:,.0f} products/s)"
    )
