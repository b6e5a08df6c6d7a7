"""Receipt scoring per the spec's rules, with hand-computed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retailos.walkout.scoring import (
    ReceiptsError,
    make_receipts,
    read_receipts,
    score,
    score_files,
    write_receipts,
)


def receipt(account: str, exit_t: float = 10.0, emitted_t: float = 10.5, **qty: int) -> dict:
    return {"account_id": account, "items": [{"sku": s, "qty": q} for s, q in qty.items()],
            "exit_t": exit_t, "emitted_t": emitted_t}  # fmt: skip


def truth(**accounts: dict[str, int]) -> dict[str, Any]:
    return {"receipts": [{"account_id": a, "items": [{"sku": s, "qty": q} for s, q in i.items()]}
                         for a, i in accounts.items()], "actions": []}  # fmt: skip


def test_per_sku_true_positives_are_the_smaller_quantity() -> None:
    # a: true {x:2, y:1}, pred {x:3}: TP 2.  b: true {z:1}, pred {z:1, y:1}: TP 1.
    s = score(
        make_receipts([receipt("a", x=3), receipt("b", z=1, y=1)]),
        truth(a={"x": 2, "y": 1}, b={"z": 1}),
    )
    assert (s.true_positives, s.predicted_units, s.true_units) == (3, 5, 4)
    assert s.precision == pytest.approx(3 / 5)
    assert s.recall == pytest.approx(3 / 4)
    assert s.f1 == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert s.exact_rate == 0.0


def test_a_perfect_set_of_receipts_scores_one_everywhere() -> None:
    s = score(make_receipts([receipt("a", x=2), receipt("b")]), truth(a={"x": 2}, b={}))
    assert (s.precision, s.recall, s.f1, s.exact_rate) == (1.0, 1.0, 1.0, 1.0)


def test_a_missing_receipt_counts_as_empty_and_never_exact() -> None:
    s = score(make_receipts([receipt("a", x=1)]), truth(a={"x": 1}, b={}, c={"y": 2}))
    assert s.missing_receipts == 2
    assert s.recall == pytest.approx(1 / 3)
    assert s.precision == 1.0
    assert s.exact_rate == pytest.approx(1 / 3)  # b owed nothing but had no receipt


def test_a_receipt_for_a_non_shopper_account_is_all_false_positives() -> None:
    s = score(make_receipts([receipt("a", x=1), receipt("staff-1", x=4)]), truth(a={"x": 1}))
    assert (s.true_positives, s.predicted_units) == (1, 5)
    assert s.precision == pytest.approx(1 / 5)
    assert s.recall == 1.0
    assert s.exact_rate == 1.0  # only shopper accounts count towards the rate
    assert [a.account_id for a in s.wrong_accounts()] == ["staff-1"]


def test_an_empty_receipt_for_a_non_shopper_costs_nothing() -> None:
    s = score(make_receipts([receipt("a", x=1), receipt("staff-1")]), truth(a={"x": 1}))
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_no_predicted_units_gives_precision_one_and_no_true_units_recall_one() -> None:
    s = score(make_receipts([receipt("a")]), truth(a={"x": 2}))
    assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)
    s = score(make_receipts([receipt("a", x=1)]), truth(a={}))
    assert (s.precision, s.recall, s.f1) == (0.0, 1.0, 0.0)
    s = score(make_receipts([receipt("a")]), truth(a={}))
    assert (s.precision, s.recall, s.f1, s.exact_rate) == (1.0, 1.0, 1.0, 1.0)


def test_zero_quantity_lines_are_the_same_as_absent_lines() -> None:
    s = score(make_receipts([receipt("a", x=1, y=0)]), truth(a={"x": 1, "z": 0}))
    assert s.exact_rate == 1.0 and s.f1 == 1.0


def test_latency_is_median_and_max_of_emitted_minus_exit() -> None:
    s = score(
        make_receipts([receipt("a", 10, 10.2), receipt("b", 20, 20.4), receipt("c", 5, 6.0)]),
        truth(a={}, b={}, c={}),
    )
    assert s.latency_median_s == pytest.approx(0.4)
    assert s.latency_max_s == pytest.approx(1.0)


def test_latency_is_measured_from_the_true_exit_when_truth_gives_it() -> None:
    t = truth(a={})
    t["receipts"][0]["exit_t"] = 9.0
    s = score(make_receipts([receipt("a", 10.0, 10.5)]), t)
    assert s.latency_max_s == pytest.approx(1.5)


def test_shopper_accounts_from_gates_without_truth_receipts_are_owed_nothing() -> None:
    s = score(make_receipts([receipt("a")]), truth(a={}), shopper_accounts=["a", "b"])
    assert s.shopper_accounts == 2 and s.missing_receipts == 1


@pytest.mark.parametrize(
    ("doc", "fault"),
    [
        (make_receipts([receipt("a"), receipt("a")]), "second receipt"),
        (make_receipts([receipt("a", exit_t=10.0, emitted_t=9.9)]), "earlier than exit_t"),
        ({"format": "other/1", "receipts": []}, "format"),
        (make_receipts([{"account_id": "a", "items": [], "exit_t": 1.0}]), "emitted_t"),
        (make_receipts([{**receipt("a"), "items": [{"sku": "x", "qty": -1}]}]), "qty"),
        (make_receipts([{**receipt("a"), "items": [{"sku": "x", "qty": 1.5}]}]), "qty"),
        ({"format": "retailos.receipts/1"}, "receipts must be a list"),
    ],
)
def test_an_invalid_receipts_file_is_rejected_with_the_reason(doc: dict, fault: str) -> None:
    with pytest.raises(ReceiptsError, match=fault):
        score(doc, truth(a={}))


def test_receipts_round_trip_through_a_file(tmp_path: Path) -> None:
    doc = make_receipts([receipt("a", x=2)])
    write_receipts(tmp_path / "receipts.json", doc)
    assert read_receipts(tmp_path / "receipts.json") == doc
    (tmp_path / "truth.json").write_text('{"receipts": [{"account_id": "a", "items": '
                                         '[{"sku": "x", "qty": 2}]}]}')  # fmt: skip
    assert score_files(tmp_path / "receipts.json", tmp_path / "truth.json").f1 == 1.0
