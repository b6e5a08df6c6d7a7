"""`retailos orders`: the shopper simulator, and giving back charges of abandoned checkouts."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Carts, checkout and orders.", no_args_is_help=True)
console = Console()


@app.command("simulate-shoppers")
def simulate_shoppers(
    url: Annotated[str, typer.Option(help="The API's base URL")] = "http://127.0.0.1:8000",
    key: Annotated[str, typer.Option(help="An API key of the store (orders:write)",
                                     envvar="RETAILOS_API_KEY")] = "",
    rate: Annotated[float, typer.Option(help="Checkouts per second")] = 1.0,
    limit: Annotated[int | None, typer.Option(help="Stop after this many checkouts")] = None,
    cancel_rate: Annotated[float, typer.Option(help="Share of orders cancelled")] = 0.05,
    return_rate: Annotated[float, typer.Option(help="Share of orders returned")] = 0.05,
    decline_rate: Annotated[float, typer.Option(help="Share of declined cards")] = 0.03,
    seed: Annotated[int, typer.Option(help="Seed of basket order and choices")] = 7,
) -> None:
    """Place orders from Complete Journey baskets through the HTTP API until Ctrl-C."""
    from retailos.orders.shopper import ShopperConfig, run_shoppers

    if not key:
        console.print("[red]error:[/red] give the store's API key with --key")
        raise typer.Exit(2)
    if rate <= 0:
        console.print("[red]error:[/red] --rate must be positive")
        raise typer.Exit(2)
    for name, share in (("cancel", cancel_rate), ("return", return_rate),
                        ("decline", decline_rate)):
        if not 0 <= share <= 1:
            console.print(f"[red]error:[/red] --{name}-rate must be between 0 and 1")
            raise typer.Exit(2)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    config = ShopperConfig(rate=rate, limit=limit, cancel_rate=cancel_rate,
                           return_rate=return_rate, decline_rate=decline_rate, seed=seed)
    console.print(f"shoppers: {rate}/s against {url}; Ctrl-C stops")
    stats = run_shoppers(url, key, rate, stop, config)
    console.print(" ".join(f"{k}={v}" for k, v in stats.as_dict().items()))


@app.command("settle-abandoned")
def settle_abandoned(
    hours: Annotated[float, typer.Option(help="How far back to look at the provider's charges")]
    = 1.0,
) -> None:
    """Void or refund charges of checkouts that never committed (what the worker does every
    minute over the last hour); a wider window catches up after the worker was down."""
    from retailos.core.clock import SystemClock
    from retailos.core.db import Database
    from retailos.core.errors import Problem
    from retailos.core.settings import get_settings
    from retailos.orders.service import settle_abandoned_checkouts

    if not 0 < hours <= 24 * 90:
        console.print("[red]error:[/red] --hours must be between 0 and 2160 (90 days)")
        raise typer.Exit(2)
    db = Database(get_settings().database_url)
    try:
        with db.transaction() as s:
            settled = settle_abandoned_checkouts(s, SystemClock(), timedelta(hours=hours))
    except Problem as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    console.print(f"{settled} charge(s) of abandoned checkouts given back")
