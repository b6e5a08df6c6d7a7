"""core.db.update_row: one row's columns written at once, by its key and tenant, and nothing
left for the session's flush."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm.exc import StaleDataError

from retailos.core.clock import ManualClock
from retailos.core.db import Database, insert_rows, update_row
from retailos.core.outbox import OutboxEvent
from tests.conftest import recorded_statements


def _event(clock: ManualClock, tenant_id: str = "ten_1") -> OutboxEvent:
    return OutboxEvent(id="evt_1", tenant_id=tenant_id, type="test.happened", payload={"n": 1},
                       created_at=clock.now())


def test_the_update_is_written_at_once_and_the_flush_has_nothing_left(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as s:
        insert_rows(s, [_event(clock)])
    later = clock.now() + timedelta(minutes=5)

    with db.transaction() as s:
        event = s.get(OutboxEvent, "evt_1")
        assert event is not None
        with recorded_statements(db, begin=False) as seen:
            update_row(s, event, dispatched_at=later)
            assert not s.dirty
            s.flush()
        assert event.dispatched_at == later

    assert len(seen) == 1
    assert seen[0].split()[0].upper() == "UPDATE"
    assert "tenant_id" in seen[0].split("WHERE", 1)[1]
    with db.transaction() as s:
        stored = s.get(OutboxEvent, "evt_1")
        assert stored is not None
        assert stored.dispatched_at == later


def test_a_row_of_another_tenant_is_not_updated(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        insert_rows(s, [_event(clock)])

    with pytest.raises(StaleDataError), db.transaction() as s:
        event = s.get(OutboxEvent, "evt_1")
        assert event is not None
        s.expunge(event)
        event.tenant_id = "ten_2"  # a row that claims to be another tenant's
        update_row(s, event, dispatched_at=clock.now())

    with db.transaction() as s:
        stored = s.get(OutboxEvent, "evt_1")
        assert stored is not None
        assert stored.dispatched_at is None
