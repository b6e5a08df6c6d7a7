"""core.db.autonomous: work that must outlive the request's transaction (a stock hold)."""

from __future__ import annotations

from retailos.core.clock import ManualClock
from retailos.core.db import Database, autonomous
from retailos.tenants import service as tenants
from retailos.tenants.models import Tenant


def test_autonomous_work_commits_on_its_own_on_postgresql_and_joins_the_request_on_sqlite(
    db: Database, clock: ManualClock
) -> None:
    with db.sessions() as request, request.begin():
        with autonomous(request) as own:
            made = tenants.create_tenant(own, clock, "retailer", "Outlives the request").id
        request.rollback()  # the request fails

    with db.transaction() as s:
        survived = s.get(Tenant, made) is not None
    assert survived == (not db.is_sqlite)


def test_autonomous_work_that_fails_is_not_committed(db: Database, clock: ManualClock) -> None:
    made: list[str] = []
    with db.sessions() as request, request.begin():
        try:
            with autonomous(request) as own:
                made.append(tenants.create_tenant(own, clock, "retailer", "Half done").id)
                own.flush()
                raise RuntimeError("fails before the end")
        except RuntimeError:
            pass
        request.rollback()

    with db.transaction() as s:
        assert s.get(Tenant, made[0]) is None
