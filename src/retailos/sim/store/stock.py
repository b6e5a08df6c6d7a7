"""Individual units on plates and in hands: settles every planned reach in time order.

Each unit's true weight is drawn once from N(weight_g, weight_sd_g) and travels with it, so a
plate's load always changes by exactly the units that moved. A unit's payer is the account
that picked it; a hand-off does not change the payer, putting it on any shelf clears it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retailos.sim.store.catalogue import Product
from retailos.sim.store.layout import Layout, Shelving
from retailos.sim.store.people import Plan, Reach


@dataclass(frozen=True)
class LoadEvent:
    """A hand at a plate: when it arrives, when the load changes (by grams), when it leaves."""

    plate: int
    t_arrive: float
    t_change: float
    t_leave: float
    grams: float  # 0.0 for a touch
    long_hold: bool


@dataclass
class Ledger:
    sku: list[str] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)
    plate_units: list[list[int]] = field(default_factory=list)
    held: dict[int, list[int]] = field(default_factory=dict)  # member -> units
    payer: dict[int, str] = field(default_factory=dict)  # unit -> account that picked it
    moved_by_reach: dict[int, list[int]] = field(default_factory=dict)

    def new_unit(self, product: Product, rng: np.random.Generator) -> int:
        self.sku.append(product.sku)
        self.weight.append(float(rng.normal(product.weight_g, product.weight_sd_g)))
        return len(self.sku) - 1


@dataclass(frozen=True)
class Outcome:
    initial_load_g: np.ndarray  # [P]
    load_events: list[LoadEvent]
    actions: list[dict[str, Any]]
    receipts: list[dict[str, Any]]


def settle(
    plan: Plan,
    layout: Layout,
    shelving: Shelving,
    products: list[Product],
    rng: np.random.Generator,
) -> Outcome:
    by_sku = {p.sku: p for p in products}
    ledger = Ledger(plate_units=[[] for _ in range(layout.n_plates)])
    for plate, counts in enumerate(shelving.initial_counts):
        for sku, count in counts.items():
            for _ in range(count):
                ledger.plate_units[plate].append(ledger.new_unit(by_sku[sku], rng))
    initial = np.array([sum(ledger.weight[u] for u in units) for units in ledger.plate_units])

    events: list[LoadEvent] = []
    actions: list[dict[str, Any]] = []
    members = plan.members
    for reach in sorted(plan.reaches, key=lambda r: (r.t_change, r.reach_id)):
        member = members[reach.member]
        moved = _settle_one(reach, plan, ledger, by_sku, rng)
        ledger.moved_by_reach[reach.reach_id] = moved
        grams = sum(ledger.weight[u] for u in moved)
        if reach.plate is not None:
            sign = -1.0 if reach.kind == "pick" else 1.0
            events.append(LoadEvent(reach.plate, reach.t_arrive, reach.t_change, reach.t_leave,
                                    sign * grams if moved else 0.0, reach.long_hold))  # fmt: skip
        if not moved or reach.kind == "receive":
            continue
        kind = {"pick": "pick", "put_own": "put", "put_wrong": "put", "restock": "restock",
                "give": "handoff"}[reach.kind]  # fmt: skip
        action: dict[str, Any] = {
            "t": round(reach.t_change, 4),
            "track_id": member.track_id,
            "account_id": member.account_id,
            "type": kind,
            "sku": ledger.sku[moved[0]],
            "qty": len(moved),
            "grams": round(grams, 2),
            "units": [int(u) for u in moved],  # simulator ids, so tests can follow each unit
        }
        if reach.plate is not None:
            action["plate"] = layout.plate_ids[reach.plate]
        if reach.partner is not None:
            action["to_track_id"] = members[reach.partner].track_id
            action["to_account_id"] = members[reach.partner].account_id
        actions.append(action)

    return Outcome(
        initial_load_g=initial,
        load_events=events,
        actions=actions,
        receipts=_receipts(plan, ledger),
    )


def _settle_one(
    reach: Reach, plan: Plan, ledger: Ledger, by_sku: dict[str, Product], rng: np.random.Generator
) -> list[int]:
    """Move units for one reach; return the units that moved (empty: the hand touched only)."""
    held = ledger.held.setdefault(reach.member, [])
    member = plan.members[reach.member]
    if reach.kind == "pick" and reach.plate is not None:
        on_plate = [u for u in ledger.plate_units[reach.plate] if ledger.sku[u] == reach.sku]
        if not on_plate:
            return []
        take = [int(u) for u in rng.permutation(on_plate)[: reach.qty]]
        for u in take:
            ledger.plate_units[reach.plate].remove(u)
            held.append(u)
            if member.role == "shopper":
                ledger.payer[u] = member.account_id
        return take
    if reach.kind in ("put_own", "put_wrong") and reach.plate is not None:
        candidates = [u for u in ledger.moved_by_reach.get(reach.ref or -1, []) if u in held]
        if not candidates:
            return []
        # Put back one unit of a multi-unit grab, or all of them.
        n = len(candidates) if rng.uniform() < 0.6 else 1
        if reach.kind == "put_wrong":
            n = len(candidates)
        back = candidates[:n]
        # Several units put down at once must be one product, as one hand holds them.
        back = [u for u in back if ledger.sku[u] == ledger.sku[back[0]]]
        for u in back:
            held.remove(u)
            ledger.plate_units[reach.plate].append(u)
            ledger.payer.pop(u, None)
        return back
    if reach.kind == "restock" and reach.plate is not None and reach.sku is not None:
        new = [ledger.new_unit(by_sku[reach.sku], rng) for _ in range(reach.qty)]
        ledger.plate_units[reach.plate].extend(new)
        return new
    if reach.kind == "give" and reach.partner is not None:
        candidates = [u for u in ledger.moved_by_reach.get(reach.ref or -1, []) if u in held]
        if not candidates:
            return []
        unit = candidates[0]
        held.remove(unit)
        ledger.held.setdefault(reach.partner, []).append(unit)
        return [unit]
    if reach.kind == "receive":
        return list(ledger.moved_by_reach.get(reach.ref or -1, []))
    return []


def _receipts(plan: Plan, ledger: Ledger) -> list[dict[str, Any]]:
    """Per shopper account: the units its people picked that left the store in anyone's hands."""
    exit_t: dict[str, float] = {}
    for m in plan.members:
        if m.role == "shopper":
            exit_t[m.account_id] = max(exit_t.get(m.account_id, 0.0), m.t_exit)
    owed: dict[str, dict[str, int]] = {a: {} for a in exit_t}
    for units in ledger.held.values():
        for u in units:
            account = ledger.payer.get(u)
            if account is not None:
                owed[account][ledger.sku[u]] = owed[account].get(ledger.sku[u], 0) + 1
    return [
        {
            "account_id": account,
            "items": [{"sku": sku, "qty": qty} for sku, qty in sorted(owed[account].items())],
            "exit_t": exit_t[account],
        }
        for account in sorted(exit_t, key=lambda a: (exit_t[a], a))
    ]
