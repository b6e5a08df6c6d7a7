"""The transactional outbox: events are rows written in the same transaction as the change.

Webhook delivery and background work read this table; nothing is lost if the process dies
between the business write and the delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from retailos.core.clock import Clock
from retailos.core.db import Base, id_column, insert_rows, tenant_column
from retailos.core.ids import new_id


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_undispatched", "dispatched_at", "id"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)


def publish(
    session: Session, clock: Clock, tenant_id: str, type: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Record an event; it becomes visible to dispatchers when the caller's transaction commits."""
    event = OutboxEvent(
        id=new_id("evt"), tenant_id=tenant_id, type=type, payload=payload,
        created_at=clock.now(),
    )
    session.add(event)
    return event


def write_pending(session: Session) -> None:
    """Write the events published in `session` and not flushed yet, now, in one INSERT past the
    unit of work (see `db.insert_rows`): for a request that publishes several events and has
    nothing else for the ORM to flush with them."""
    pending = sorted((x for x in session.new if isinstance(x, OutboxEvent)),
                     key=lambda event: event.id)
    for event in pending:
        session.expunge(event)
    insert_rows(session, pending)


def undispatched(session: Session, limit: int = 100) -> list[OutboxEvent]:
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
