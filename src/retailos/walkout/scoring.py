"""Score an engine's receipts against a recording's truth (store-recording.md, "Scoring").

Also reads, validates and writes receipts.json ("retailos.receipts/1").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RECEIPTS_FORMAT = "retailos.receipts/1"


class ReceiptsError(ValueError):
    """A receipts or truth document is invalid; the message says which file and why."""


@dataclass(frozen=True)
class AccountScore:
    """How one account's receipt compares with the truth; `lines` lists every differing sku."""

    account_id: str
    shopper: bool  # False: staff or unknown, so every predicted unit is a false positive
    has_receipt: bool
    true_units: int
    predicted_units: int
    true_positives: int
    exact: bool
    latency_s: float | None
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (predicted, true)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    exact_rate: float  # share of shopper accounts whose receipt is exactly right
    latency_median_s: float | None
    latency_max_s: float | None
    true_units: int
    predicted_units: int
    true_positives: int
    shopper_accounts: int
    missing_receipts: int
    accounts: list[AccountScore]

    def wrong_accounts(self) -> list[AccountScore]:
        """The accounts to look at when debugging: not exactly right, or charged when not due."""
        return [a for a in self.accounts if not a.exact or (not a.shopper and a.predicted_units)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "exact_rate": self.exact_rate,
            "latency_median_s": self.latency_median_s,
            "latency_max_s": self.latency_max_s,
            "true_units": self.true_units,
            "predicted_units": self.predicted_units,
            "true_positives": self.true_positives,
            "shopper_accounts": self.shopper_accounts,
            "missing_receipts": self.missing_receipts,
            "wrong_accounts": [
                {
                    "account_id": a.account_id,
                    "shopper": a.shopper,
                    "has_receipt": a.has_receipt,
                    "lines": {sku: list(pair) for sku, pair in a.lines.items()},
                }
                for a in self.wrong_accounts()
            ],
        }


# --------------------------------------------------------------------------- receipts.json


def _items(where: str, raw: Any) -> dict[str, int]:
    """An items list as {sku: qty} with zero lines dropped; a sku listed twice adds up."""
    if not isinstance(raw, list):
        raise ReceiptsError(f"{where}.items must be a list")
    items: dict[str, int] = {}
    for j, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ReceiptsError(f"{where}.items[{j}] must be an object")
        sku, qty = item.get("sku"), item.get("qty")
        if not isinstance(sku, str) or not sku:
            raise ReceiptsError(f"{where}.items[{j}].sku must be a non-empty string")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise ReceiptsError(f"{where}.items[{j}].qty must be an integer >= 0")
        if qty:
            items[sku] = items.get(sku, 0) + qty
    return items


def _time(where: str, key: str, raw: Mapping[str, Any]) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReceiptsError(f"{where}.{key} must be a finite number")
    return float(value)


def validate_receipts(doc: Any, file: str = "receipts.json") -> None:
    """Raise ReceiptsError unless `doc` is a valid engine output per spec."""
    if not isinstance(doc, dict):
        raise ReceiptsError(f"{file}: top level must be a JSON object")
    if doc.get("format") != RECEIPTS_FORMAT:
        raise ReceiptsError(
            f"{file}: format must be {RECEIPTS_FORMAT!r}, got {doc.get('format')!r}"
        )
    receipts = doc.get("receipts")
    if not isinstance(receipts, list):
        raise ReceiptsError(f"{file}: receipts must be a list")
    seen: set[str] = set()
    for i, raw in enumerate(receipts):
        where = f"{file}: receipts[{i}]"
        if not isinstance(raw, dict):
            raise ReceiptsError(f"{where} must be an object")
        account = raw.get("account_id")
        if not isinstance(account, str) or not account:
            raise ReceiptsError(f"{where}.account_id must be a non-empty string")
        if account in seen:
            raise ReceiptsError(f"{where}: a second receipt for account {account!r}")
        seen.add(account)
        _items(where, raw.get("items"))
        exit_t = _time(where, "exit_t", raw)
        emitted_t = _time(where, "emitted_t", raw)
        if emitted_t < exit_t:
            raise ReceiptsError(
                f"{where}: emitted_t {emitted_t:g} is earlier than exit_t {exit_t:g} "
                f"for account {account!r}"
            )


def read_receipts(path: str | Path) -> dict[str, Any]:
    """Read and validate receipts.json."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReceiptsError(f"{path.name}: is not readable JSON ({exc})") from exc
    validate_receipts(doc, path.name)
    return dict(doc)


def write_receipts(path: str | Path, doc: Mapping[str, Any]) -> None:
    """Validate and write receipts.json."""
    validate_receipts(doc)
    Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def make_receipts(receipts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Wrap receipt objects in the receipts.json envelope."""
    return {"format": RECEIPTS_FORMAT, "receipts": [dict(r) for r in receipts]}


def read_truth(path: str | Path) -> dict[str, Any]:
    """Read truth.json far enough to score against it."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReceiptsError(f"{path.name}: is not readable JSON ({exc})") from exc
    _true_receipts(doc, path.name)
    return dict(doc)


def _true_receipts(truth: Any, file: str = "truth.json") -> dict[str, dict[str, Any]]:
    if not isinstance(truth, dict) or not isinstance(truth.get("receipts"), list):
        raise ReceiptsError(f"{file}: must be an object with a receipts list")
    out: dict[str, dict[str, Any]] = {}
    for i, raw in enumerate(truth["receipts"]):
        where = f"{file}: receipts[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("account_id"), str):
            raise ReceiptsError(f"{where} must be an object with an account_id")
        if raw["account_id"] in out:
            raise ReceiptsError(f"{where}: a second receipt for {raw['account_id']!r}")
        out[raw["account_id"]] = raw
    return out


# --------------------------------------------------------------------------- scoring


def score(
    receipts: Mapping[str, Any],
    truth: Mapping[str, Any],
    shopper_accounts: Iterable[str] | None = None,
) -> Score:
    """Score a receipts document against truth per spec.

    Shopper accounts are those with a truth receipt (the spec gives every shopper account one)
    plus `shopper_accounts` if given (e.g. from gates.csv). When truth receipts carry an
    `exit_t` (this simulator adds it), latency is measured from that true exit instead of the
    engine's own claim.
    """
    validate_receipts(receipts)
    true_by_account = _true_receipts(truth)
    true_items = {a: _items(f"truth.json: {a}", r.get("items", [])) for a, r in
                  true_by_account.items()}  # fmt: skip
    shoppers = set(true_items) | set(shopper_accounts or ())
    predicted = {r["account_id"]: r for r in receipts["receipts"]}

    accounts: list[AccountScore] = []
    for account in sorted(shoppers | set(predicted)):
        shopper = account in shoppers
        want = true_items.get(account, {})
        receipt = predicted.get(account)
        got = _items(account, receipt["items"]) if receipt is not None else {}
        tp = sum(min(q, want.get(sku, 0)) for sku, q in got.items()) if shopper else 0
        lines = {
            sku: (got.get(sku, 0), want.get(sku, 0))
            for sku in sorted(set(got) | set(want))
            if got.get(sku, 0) != want.get(sku, 0) or not shopper
        }
        latency = None
        if receipt is not None:
            true_exit = true_by_account.get(account, {}).get("exit_t")
            exit_t = float(true_exit) if isinstance(true_exit, int | float) else receipt["exit_t"]
            latency = float(receipt["emitted_t"]) - float(exit_t)
        accounts.append(
            AccountScore(
                account_id=account,
                shopper=shopper,
                has_receipt=receipt is not None,
                true_units=sum(want.values()),
                predicted_units=sum(got.values()),
                true_positives=tp,
                # A missing receipt is never exactly right, even when nothing was due.
                exact=shopper and receipt is not None and got == want,
                latency_s=latency,
                lines=lines,
            )
        )

    true_units = sum(a.true_units for a in accounts if a.shopper)
    predicted_units = sum(a.predicted_units for a in accounts)
    tp = sum(a.true_positives for a in accounts)
    precision = tp / predicted_units if predicted_units else 1.0
    recall = tp / true_units if true_units else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    shopper_scores = [a for a in accounts if a.shopper]
    exact_rate = (
        sum(a.exact for a in shopper_scores) / len(shopper_scores) if shopper_scores else 1.0
    )
    latencies = [a.latency_s for a in shopper_scores if a.latency_s is not None]
    return Score(
        precision=precision,
        recall=recall,
        f1=f1,
        exact_rate=exact_rate,
        latency_median_s=float(np.median(latencies)) if latencies else None,
        latency_max_s=max(latencies) if latencies else None,
        true_units=true_units,
        predicted_units=predicted_units,
        true_positives=tp,
        shopper_accounts=len(shopper_scores),
        missing_receipts=sum(not a.has_receipt for a in shopper_scores),
        accounts=accounts,
    )


def score_files(receipts_path: str | Path, truth_path: str | Path) -> Score:
    """Score receipts.json against truth.json, both read from disk."""
    return score(read_receipts(receipts_path), read_truth(truth_path))
