"""The demo world: the operator's own grocery store, stocked with the Complete Journey catalogue,
served over HTTP with shoppers placing orders against it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from rich.console import Console

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.migrate import upgrade
from retailos.tenants import service as tenants

STORE_NAME = "RetailOS Grocery"
WAREHOUSE = "main-warehouse"


@dataclass(frozen=True)
class DemoWorld:
    operator_id: str
    api_key: str
    products: int


def build_world(db: Database, console: Console, limit: int | None = None) -> DemoWorld:
    """Migrate, then make sure the operator, its catalogue and its stock exist (idempotent)."""
    from retailos.catalog.completejourney import import_catalogue
    from retailos.catalog.service import list_saleable_variant_ids
    from retailos.inventory import service as inventory

    clock = SystemClock()
    upgrade(db)
    with db.transaction() as s:
        operator = tenants.operator_tenant(s) or tenants.create_tenant(
            s, clock, "operator", STORE_NAME
        )
        operator_id = operator.id
    console.print(f"operator tenant [bold]{operator_id}[/bold] ({STORE_NAME})")
    result = import_catalogue(db, clock, operator_id, limit=limit, console=console)
    console.print(f"catalogue: {result.created} created, {result.updated} updated, "
                  f"{result.unchanged} unchanged in {result.seconds:.1f} s")
    with db.transaction() as s:
        location = inventory.find_location(s, operator_id, WAREHOUSE)
        if location is None:
            location = inventory.create_location(
                s, clock, operator_id, WAREHOUSE, "Main warehouse", "warehouse")
            variant_ids = list_saleable_variant_ids(s, operator_id, "USD")
            rng = random.Random(7)
            stocked = inventory.receive_many(
                s, clock, operator_id, location.id,
                {v: rng.randint(20, 200) for v in variant_ids}, reason="received",
            )
            console.print(f"stock received for {stocked} SKUs at {location.code}")
        issued = tenants.create_api_key(s, clock, operator_id, "demo")
    return DemoWorld(operator_id, issued.token, result.created + result.updated + result.unchanged)


def start_shoppers(url: str, api_key: str, stop: threading.Event) -> threading.Thread:
    from retailos.orders.shopper import run_shoppers

    thread = threading.Thread(
        target=run_shoppers, kwargs={"url": url, "api_key": api_key, "rate": 1.0, "stop": stop},
        name="shoppers", daemon=True,
    )
    thread.start()
    return thread
