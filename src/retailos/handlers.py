"""What runs beside the API: in-process reactions to outbox events and periodic upkeep.

Registered explicitly by the processes that run workers (the API with RETAILOS_RUN_WORKERS, and
`retailos webhooks worker`), never as a side effect of an import.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.outbox import OutboxEvent
from retailos.webhooks.dispatch import register_handler


def _payment_settled(session: Session, clock: Clock, event: OutboxEvent) -> None:
    """A pending card payment was confirmed or refused later: pay or cancel its orders."""
    from retailos.orders.service import on_payment_event

    on_payment_event(session, clock, event.tenant_id, event.type, event.payload)


def install() -> None:
    register_handler("payment.authorized", _payment_settled)
    register_handler("payment.failed", _payment_settled)


def upkeep(session: Session, clock: Clock) -> int:
    """Give back stock of expired reservations; cancel orders whose payment never confirmed."""
    from retailos.inventory.service import expire_holds
    from retailos.orders.service import cancel_unconfirmed

    return expire_holds(session, clock) + cancel_unconfirmed(session, clock)


def reconcile(session: Session, clock: Clock) -> int:
    """Give back charges of checkouts that never committed. A task of its own (its own
    transaction): a provider that does not answer must not undo the upkeep above."""
    from retailos.orders.service import settle_abandoned_checkouts

    return settle_abandoned_checkouts(session, clock)


UPKEEP = (upkeep, reconcile)
