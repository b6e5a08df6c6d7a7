"""The `retailos` command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from retailos.billing.cli import app as billing_app
from retailos.catalog.cli import app as catalog_app
from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.errors import Problem
from retailos.core.settings import get_settings
from retailos.inventory.cli import app as inventory_app
from retailos.ledger.cli import app as ledger_app
from retailos.orders.cli import app as orders_app
from retailos.payments.cli import app as payments_app
from retailos.walkout.cli import app as walkout_app
from retailos.webhooks.cli import app as webhooks_app

app = typer.Typer(help="RetailOS: a retail operating system.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Tenants and API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(catalog_app, name="catalog")
app.add_typer(inventory_app, name="inventory")
app.add_typer(walkout_app, name="walkout", help="Walk-out stores: simulate, replay, score, report.")
app.add_typer(ledger_app, name="ledger")
app.add_typer(billing_app, name="billing")
app.add_typer(orders_app, name="orders")
app.add_typer(webhooks_app, name="webhooks", help="Webhook delivery: run the worker.")
app.add_typer(payments_app, name="payments")

console = Console()
err = Console(stderr=True)


def open_database(url: str | None = None) -> Database:
    return Database(url or get_settings().database_url)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema."""
    from retailos.core.migrate import upgrade

    db = open_database()
    upgrade(db)
    console.print(f"schema is current on {db.engine.url.render_as_string(hide_password=True)}")


@admin_app.command("create-tenant")
def create_tenant(
    name: Annotated[str, typer.Option(help="The tenant's name")],
    kind: Annotated[str, typer.Option(help="operator, retailer, seller or partner_store")],
    currency: Annotated[str, typer.Option(help="Default ISO currency")] = "USD",
) -> None:
    """Create a tenant and print its id."""
    from retailos.tenants import service

    db = open_database()
    try:
        with db.transaction() as s:
            tenant = service.create_tenant(s, SystemClock(), kind, name, currency)
    except Problem as e:
        fail(e.detail)
    console.print(tenant.id)


@admin_app.command("create-key")
def create_key(
    tenant: Annotated[str, typer.Option(help="Tenant id (ten_...)")],
    name: Annotated[str, typer.Option(help="A label for the key")] = "cli",
    scope: Annotated[list[str] | None, typer.Option(help="A scope; repeat for more")] = None,
) -> None:
    """Create an API key for a tenant. The key is printed once and stored only hashed."""
    from retailos.tenants import service

    db = open_database()
    try:
        with db.transaction() as s:
            issued = service.create_api_key(s, SystemClock(), tenant, name, scope)
    except Problem as e:
        fail(e.detail)
    console.print(issued.token, soft_wrap=True)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from retailos.api.ops import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run("retailos.api.main:app", host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


@app.command()
def demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    shoppers: Annotated[bool, typer.Option(help="Run the shopper simulator")] = True,
    limit: Annotated[int | None, typer.Option(help="Import only this many products")] = None,
) -> None:
    """Set up the demo world (idempotently) and serve it, with shoppers placing orders."""
    import os
    import threading

    import uvicorn

    from retailos.api.ops import configure_logging
    from retailos.core.migrate import drift, upgrade
    from retailos.core.pgcluster import wait_for_port
    from retailos.demo import build_world, start_shoppers

    db = open_database()
    upgrade(db)
    if drift(db):  # a database made by an earlier pre-release schema (migration 0001 changed)
        fail(f"the database {db.engine.url.render_as_string(hide_password=True)} has an older "
             "pre-release schema; remove it (`make clean` removes .retailos/) and run again", 1)
    os.environ.setdefault("RETAILOS_RUN_WORKERS", "true")
    get_settings.cache_clear()
    settings = get_settings()
    world = build_world(db, console, limit=limit)
    url = f"http://{host}:{port}"
    console.rule("RetailOS demo")
    for line in (
        f"API:           {url}",
        f"API docs:      {url}/docs  (OpenAPI: {url}/openapi.json)",
        f"operator key:  [bold]{world.api_key}[/bold]  (shown once)",
        f'try:           curl -H "Authorization: Bearer {world.api_key}" {url}/v1/me',
    ):
        console.print(line, soft_wrap=True)
    console.rule()
    stop = threading.Event()
    if shoppers:
        def launch() -> None:
            wait_for_port(port, timeout=60)
            start_shoppers(url, world.api_key, stop)

        threading.Thread(target=launch, daemon=True).start()
    configure_logging("WARNING", settings.log_json)
    try:
        uvicorn.run("retailos.api.main:app", host=host, port=port, log_level="warning",
                    access_log=False)
    finally:
        stop.set()


def main() -> None:
    app()
