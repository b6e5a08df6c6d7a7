"""`retailos webhooks ...`: run the delivery worker."""

from __future__ import annotations

from typing import Annotated

import typer

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.settings import get_settings

app = typer.Typer(help="Webhook delivery.", no_args_is_help=True)


@app.command("worker")
def worker(
    interval: Annotated[float, typer.Option(help="Seconds to wait when idle")] = 1.0,
    once: Annotated[bool, typer.Option(help="Run one pass and exit")] = False,
) -> None:
    """Dispatch outbox events and deliver webhooks until interrupted."""
    import signal

    import httpx

    from retailos import handlers
    from retailos.api.ops import configure_logging
    from retailos.webhooks.worker import Worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    db = Database(settings.database_url)
    handlers.install()
    w = Worker(db, SystemClock(), settings, interval_s=interval, upkeep=handlers.UPKEEP)
    try:
        if once:
            with httpx.Client() as client:
                typer.echo(f"{w.run_once(client)} events and deliveries handled")
        else:
            signal.signal(signal.SIGTERM, lambda *_: w.stop_event.set())  # finish the pass, exit
            w.run()
    except KeyboardInterrupt:
        w.stop_event.set()
    finally:
        db.dispose()
