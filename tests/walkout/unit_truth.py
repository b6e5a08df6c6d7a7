"""What the spec's charging rules make each account owe, derived unit by unit from a truth file
whose actions name their units (the third and fourth generators add `units` and, on a hand-off,
`to_track_id`): written here independently of any generator, to check their receipts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any


def owed(truth: Mapping[str, Any], gates: Sequence[Mapping[str, str]]) -> dict[str, Counter[str]]:
    """Units per SKU that each shopper account carried out (rules 1-5), staff excluded."""
    role = {int(g["track_id"]): g["role"] for g in gates if g["event"] == "enter"}
    account = {int(g["track_id"]): g["account_id"] for g in gates if g["event"] == "enter"}
    picker: dict[int, int] = {}
    holder: dict[int, int | None] = {}
    for action in sorted(truth["actions"], key=lambda a: a["t"]):
        assert len(action["units"]) == action["qty"]
        for unit in action["units"]:
            if action["type"] == "pick":
                picker[unit], holder[unit] = action["track_id"], action["track_id"]
            elif action["type"] == "handoff":
                assert holder[unit] == action["track_id"]
                holder[unit] = action["to_track_id"]
            elif action["type"] == "put":
                assert holder[unit] == action["track_id"]
                holder[unit] = None
    due: dict[str, Counter[str]] = {a: Counter() for t, a in account.items()
                                    if role[t] == "shopper"}  # fmt: skip
    sku_of = {u: a["sku"] for a in truth["actions"] for u in a["units"]}
    for unit, track in holder.items():
        if track is not None and role[picker[unit]] == "shopper":
            due[account[picker[unit]]][sku_of[unit]] += 1
    return due


def receipts(truth: Mapping[str, Any]) -> dict[str, Counter[str]]:
    """The truth file's own receipts, in the same shape as `owed`."""
    return {r["account_id"]: Counter({i["sku"]: i["qty"] for i in r["items"]})
            for r in truth["receipts"]}  # fmt: skip
