"""core.db.insert_rows and outbox.write_pending: rows written at once, one INSERT per table."""

from __future__ import annotations

from sqlalchemy import select

from retailos.core import outbox
from retailos.core.clock import ManualClock
from retailos.core.db import Database, insert_rows
from retailos.core.outbox import OutboxEvent
from tests.conftest import recorded_statements


def _event(clock: ManualClock, n: int) -> OutboxEvent:
    return OutboxEvent(id=f"evt_{n}", tenant_id="ten_1", type="test.happened",
                       payload={"n": n}, created_at=clock.now())


def test_rows_of_any_number_are_one_insert_and_read_back_as_written(
    db: Database, clock: ManualClock
) -> None:
    with recorded_statements(db, begin=False) as seen, db.transaction() as s:
        insert_rows(s, [_event(clock, n) for n in range(5)])
        assert not s.new  # past the unit of work: nothing left for a flush

    assert [x.split()[0].upper() for x in seen] == ["INSERT"]
    with db.transaction() as s:
        rows = s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
        assert [(e.id, e.payload, e.dispatched_at, e.created_at) for e in rows] == [
            (f"evt_{n}", {"n": n}, None, clock.now()) for n in range(5)]


def test_pending_events_are_written_in_one_insert_and_leave_the_session(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as s:
        for n in range(3):
            outbox.publish(s, clock, "ten_1", "test.happened", {"n": n})
        with recorded_statements(db, begin=False) as seen:
            outbox.write_pending(s)
            s.flush()
        assert not s.new

    assert [x.split()[0].upper() for x in seen] == ["INSERT"]
    with db.transaction() as s:
        assert [e.payload["n"] for e in outbox.undispatched(s)] == [0, 1, 2]
