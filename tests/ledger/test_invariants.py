"""The ledger's invariants under random postings and under concurrent writers."""

from __future__ import annotations

import threading
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Problem
from retailos.core.money import Money
from retailos.ledger import postings, service
from retailos.ledger.models import LedgerAccount

OPERATOR = "ten_operator"
STORES = (OPERATOR, "ten_store_a", "ten_store_b")

sale_op = st.tuples(
    st.just("sale"), st.sampled_from(STORES), st.sampled_from(["USD", "JPY"]),
    st.integers(1, 100_000), st.integers(0, 100), st.integers(0, 5_000),
)
refund_op = st.tuples(
    st.just("refund"), st.sampled_from(STORES), st.sampled_from(["USD", "JPY"]),
    st.integers(1, 100_000), st.integers(0, 100), st.integers(0, 5_000),
)
reverse_op = st.tuples(st.just("reverse"), st.integers(0, 50))


def assert_ledger_sound(db: Database) -> None:
    with db.transaction() as s:
        assert service.check(s) == []
        totals = s.execute(
            select(LedgerAccount.currency, func.sum(LedgerAccount.balance))
            .group_by(LedgerAccount.currency)
        ).all()
        assert all(total == 0 for _, total in totals), totals
        per_tenant = s.execute(
            select(LedgerAccount.tenant_id, LedgerAccount.currency, func.sum(LedgerAccount.balance))
            .group_by(LedgerAccount.tenant_id, LedgerAccount.currency)
        ).all()
        assert all(total == 0 for _, _, total in per_tenant), per_tenant


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.one_of(sale_op, refund_op, reverse_op), min_size=1, max_size=15))
def test_random_postings_keep_every_entry_and_tenant_balanced(
    db: Database, clock: ManualClock, ops: list[tuple]  # type: ignore[type-arg]
) -> None:
    posted: list[str] = []
    for op in ops:
        try:
            with db.transaction() as s:
                if op[0] == "reverse":
                    if posted:
                        service.reverse(s, clock, OPERATOR, posted[op[1] % len(posted)], "undo")
                    continue
                kind, store, cur, amount, tax_pct, fees = op
                tax = Money(amount * tax_pct // 100, cur)
                common = dict(store_tenant_id=store, operator_tenant_id=OPERATOR, ref="grp")
                if kind == "sale":
                    entry = postings.sale(s, clock, **common, gross=Money(amount, cur), tax=tax,
                                          fees=Money(fees, cur))
                else:
                    entry = postings.refund(s, clock, **common, amount=Money(amount, cur), tax=tax,
                                            fees_returned=Money(min(fees, amount), cur))
                posted.append(entry.id)
        except Problem:
            pass  # a refused posting (a second reversal) must leave nothing behind
    assert_ledger_sound(db)


def test_concurrent_sales_keep_balances_equal_to_their_lines(
    database_url: str, clock: ManualClock
) -> None:
    threads, per_thread = 8, 15
    stores = [f"ten_store_{i}" for i in range(4)]
    expected: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        db = Database(database_url)
        try:
            for i in range(per_thread):
                store = stores[(n + i) % len(stores)]
                gross = 1000 + n * 100 + i
                with db.transaction() as s:
                    postings.sale(s, clock, store_tenant_id=store, operator_tenant_id=OPERATOR,
                                  ref=f"grp_{n}_{i}", gross=Money(gross, "USD"),
                                  tax=Money(gross // 10, "USD"), fees=Money(gross // 12, "USD"))
                with lock:
                    expected[store] += gross - gross // 12
                    expected[OPERATOR] += gross
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            db.dispose()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    db = Database(database_url)
    try:
        assert_ledger_sound(db)
        with db.transaction() as s:
            for tenant, cash in expected.items():
                assert service.balances(s, tenant)["cash_clearing"] == Money(cash, "USD")
            entries = service.list_entries(s, OPERATOR, limit=200)[0]
        assert len(entries) == threads * per_thread
    finally:
        db.dispose()


def test_two_concurrent_reversals_of_one_entry_leave_one_reversal(
    database_url: str, clock: ManualClock
) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as s:
            entry_id = postings.sale(
                s, clock, store_tenant_id="ten_store", operator_tenant_id=OPERATOR, ref="grp",
                gross=Money(1000, "USD"), tax=Money(0, "USD"), fees=Money(80, "USD")).id
    finally:
        db.dispose()
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def worker() -> None:
        mine = Database(database_url)
        try:
            start.wait()
            with mine.transaction() as s:
                service.reverse(s, clock, OPERATOR, entry_id, "twice by accident")
            outcomes.append("reversed")
        except Problem as e:
            outcomes.append(type(e).__name__)
        finally:
            mine.dispose()

    pool = [threading.Thread(target=worker) for _ in range(4)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sorted(outcomes) == ["Conflict", "Conflict", "Conflict", "reversed"]
    db = Database(database_url)
    try:
        assert_ledger_sound(db)
    finally:
        db.dispose()
