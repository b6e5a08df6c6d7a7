from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from retailos.billing import service as billing
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from retailos.core.money import Money
from retailos.tenants import service as tenants
from tests.conftest import recorded_statements


def usd(amount: int) -> Money:
    return Money(amount, "USD")


@pytest.fixture
def store_and_operator(db: Database, clock: ManualClock) -> tuple[str, str]:
    with db.transaction() as s:
        operator = tenants.create_tenant(s, clock, "operator", "Operator").id
        store = tenants.create_tenant(s, clock, "retailer", "Corner Grocer").id
    return store, operator


def test_defaults_apply_the_per_item_minimum_to_cheap_items(
    db: Database, store_and_operator: tuple[str, str]
) -> None:
    store, _ = store_and_operator
    with db.transaction() as s:
        quote = billing.quote_order_fees(s, store, [(3, usd(100)), (1, usd(2000))])
    # 8% of 3 x 1.00 is 0.24, below 3 x 0.30; 8% of 20.00 is 1.60, above 0.30.
    assert quote == billing.FeeQuote(referral=usd(90 + 160), per_order=usd(0), total=usd(250))


def test_a_quote_takes_one_query(db: Database, store_and_operator: tuple[str, str]) -> None:
    store, _ = store_and_operator
    with db.transaction() as s, recorded_statements(db) as seen:
        billing.quote_order_fees(s, store, [(2, usd(499)), (1, usd(1999)), (5, usd(99))])
    assert len([x for x in seen if x.lstrip().upper().startswith("SELECT")]) == 1


@pytest.mark.parametrize(("bps", "line", "referral"), [
    (800, (1, 1006), 80),  # 80.48 rounds down
    (800, (1, 1007), 81),  # 80.56 rounds up
    (1250, (1, 1004), 126),  # 125.5: half away from zero
    (800, (3, 333), 80),  # the rate applies to the line total 9.99, not to each unit
])
def test_referral_rounds_each_line_total_half_away_from_zero(
    db: Database, clock: ManualClock, store_and_operator: tuple[str, str], bps: int,
    line: tuple[int, int], referral: int,
) -> None:
    store, operator = store_and_operator
    with db.transaction() as s:
        billing.set_fee_schedule(s, clock, operator, store, currency="USD", referral_bps=bps,
                                 referral_min_per_item=0, per_order=0)
        quote = billing.quote_order_fees(s, store, [(line[0], usd(line[1]))])
    assert quote.referral == usd(referral)


def test_a_newer_schedule_wins_from_its_effective_date(
    db: Database, clock: ManualClock, store_and_operator: tuple[str, str]
) -> None:
    store, operator = store_and_operator
    later = datetime(2026, 6, 1, tzinfo=UTC)
    with db.transaction() as s:
        billing.set_fee_schedule(s, clock, operator, store, currency="USD", referral_bps=1500,
                                 referral_min_per_item=0, per_order=99)
        billing.set_fee_schedule(s, clock, operator, store, currency="USD", referral_bps=500,
                                 referral_min_per_item=0, per_order=0, effective_from=later)
        before = billing.quote_order_fees(s, store, [(1, usd(1000))], at=clock.now())
        after = billing.quote_order_fees(s, store, [(1, usd(1000))], at=later)
        euros = billing.quote_order_fees(s, store, [(1, Money(1000, "EUR"))], at=later)
    assert (before.referral, before.per_order, before.total) == (usd(150), usd(99), usd(249))
    assert after.total == usd(50)
    assert euros.total == Money(80, "EUR")  # no EUR schedule: the defaults


@pytest.mark.parametrize("lines", [[], [(0, usd(100))], [(1, usd(-1))],
                                   [(1, usd(100)), (1, Money(100, "EUR"))]])
def test_bad_quote_input_is_rejected(
    db: Database, store_and_operator: tuple[str, str], lines: list[tuple[int, Money]]
) -> None:
    with pytest.raises(InvalidInput), db.transaction() as s:
        billing.quote_order_fees(s, store_and_operator[0], lines)


def test_only_the_operator_sets_schedules_for_known_tenants(
    db: Database, clock: ManualClock, store_and_operator: tuple[str, str]
) -> None:
    store, operator = store_and_operator
    terms: dict[str, Any] = dict(currency="USD", referral_bps=1, referral_min_per_item=0,
                                 per_order=0)
    with pytest.raises(Forbidden), db.transaction() as s:
        billing.set_fee_schedule(s, clock, store, store, **terms)
    with pytest.raises(NotFound), db.transaction() as s:
        billing.set_fee_schedule(s, clock, operator, "ten_nobody", **terms)
    with pytest.raises(InvalidInput), db.transaction() as s:
        billing.set_fee_schedule(s, clock, operator, store, **{**terms, "referral_bps": 10_001})


def test_usage_is_recorded_once_per_ref(
    db: Database, clock: ManualClock, store_and_operator: tuple[str, str]
) -> None:
    store, _ = store_and_operator
    with db.transaction() as s:
        billing.record_usage(s, clock, store, "referral", 1, usd(250), "ord_1")
        billing.record_usage(s, clock, store, "referral", 1, usd(250), "ord_1")
        billing.record_usage(s, clock, store, "order", 1, usd(99), "ord_1")
    with pytest.raises(Conflict), db.transaction() as s:
        billing.record_usage(s, clock, store, "referral", 1, usd(251), "ord_1")
    with db.transaction() as s:
        st = billing.statement(s, store, 2026, 1, "USD")
    assert [(x.service, x.quantity, x.charged) for x in st.lines] == [
        ("order", 1, usd(99)), ("referral", 1, usd(250))]
