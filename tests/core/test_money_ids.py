from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retailos.core.ids import new_id
from retailos.core.money import CurrencyMismatch, Money


def test_ids_sort_by_creation_time() -> None:
    earlier = new_id("ord", now_ms=1_700_000_000_000)
    later = new_id("ord", now_ms=1_700_000_000_001)
    assert earlier < later
    assert earlier.startswith("ord_") and len(earlier) == 30


def test_id_prefix_must_be_lowercase_letters() -> None:
    with pytest.raises(ValueError, match="prefix"):
        new_id("Order")


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(CurrencyMismatch):
        Money(1, "USD") + Money(1, "EUR")


def test_money_prints_in_major_units() -> None:
    assert str(Money(-1234, "USD")) == "-12.34 USD"
    assert str(Money(500, "JPY")) == "500 JPY"


@given(st.integers(-10**12, 10**12), st.integers(0, 10_000))
def test_percent_of_rounds_half_away_from_zero(amount: int, bps: int) -> None:
    got = Money(amount, "USD").percent_of(bps).amount
    exact = amount * bps / 10_000
    assert abs(got - exact) <= 0.5
    assert got == -Money(-amount, "USD").percent_of(bps).amount


def test_ids_made_in_one_process_strictly_increase_even_within_a_millisecond() -> None:
    from retailos.core.ids import new_ids

    ids = [new_id("mov") for _ in range(2000)] + new_ids("mov", 5000) + [new_id("mov")]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 30 for i in ids)


def test_ids_use_crockford_digits_only() -> None:
    import re

    from retailos.core.ids import new_ids

    assert all(re.fullmatch(r"stk_[0-9A-HJKMNP-TV-Z]{26}", i) for i in new_ids("stk", 1000))


def test_a_problem_extension_cannot_overwrite_a_standard_member() -> None:
    from retailos.core.errors import Conflict

    with pytest.raises(ValueError, match="status"):
        Conflict("no", status="shipped")
    assert Conflict("no", current_status="shipped").body()["status"] == 409
