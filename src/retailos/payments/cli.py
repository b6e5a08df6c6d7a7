"""`retailos payments ...`: the test processor's side of a payment, for demos and support.

`confirm` plays the cardholder who completes authentication of a pending charge (test card
4000000000003220): the processor emits its signed event, which is delivered to a running API
(`--deliver-to`) or applied to the database directly.
"""

from __future__ import annotations

import json
from typing import Annotated, cast

import typer

from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.errors import Problem
from retailos.core.settings import get_settings
from retailos.payments.providers import TestProvider, registered_provider

app = typer.Typer(help="Payments: the test processor's charges and events.", no_args_is_help=True)


def _processor(db: Database) -> TestProvider:
    return cast(TestProvider, registered_provider("test")).connected(db.engine)


@app.command("charge")
def charge(provider_ref: Annotated[str, typer.Argument(help="The charge id (tpch_...)")]) -> None:
    """Show a charge as the test processor sees it."""
    found = _processor(Database(get_settings().database_url)).charge(provider_ref)
    if found is None:
        typer.echo(f"error: no charge {provider_ref}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps({
        "id": found.id, "status": found.status, "amount": found.amount,
        "currency": found.currency, "captured": found.captured_amount,
        "refunded": found.refunded_amount, "card_last4": found.card_last4,
        "decline_code": found.decline_code,
    }, indent=2))


@app.command("confirm")
def confirm(
    provider_ref: Annotated[str, typer.Argument(help="The pending charge id (tpch_...)")],
    fail: Annotated[bool, typer.Option(help="The cardholder fails authentication")] = False,
    deliver_to: Annotated[str | None, typer.Option(
        help="Base URL of a running API to deliver the signed event to; "
             "without it the event is applied to the database directly")] = None,
) -> None:
    """Complete (or fail) the cardholder's confirmation of a pending charge."""
    from retailos.payments import service

    db = Database(get_settings().database_url)
    processor = _processor(db)
    try:
        event = processor.confirm(provider_ref, succeed=not fail)
    except (KeyError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(event, indent=2))
    if deliver_to:
        import httpx

        body, headers = processor.signed(event)
        r = httpx.post(f"{deliver_to.rstrip('/')}/v1/payments/provider-events",
                       content=body, headers=headers, timeout=10)
        typer.echo(f"delivered: {r.status_code} {r.text}")
        if r.status_code >= 300:
            raise typer.Exit(1)
        return
    try:
        with db.transaction() as s:
            payment = service.handle_provider_event(s, SystemClock(), event)
            status = payment.status if payment is not None else "unchanged (already processed)"
            typer.echo(f"applied: {payment.id if payment else ''} {status}".strip())
    except Problem as e:
        typer.echo(f"error: {e.detail}", err=True)
        raise typer.Exit(1) from None
