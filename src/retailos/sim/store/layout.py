"""Store geometry: gondolas in rows with aisles between them, shelves of weighing plates, gates.

Gondolas run along y. Each aisle is lined by two gondola faces whose plates face into it; a
front cross aisle (by the gates, at low y) and a back cross aisle join the aisles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retailos.sim.store.catalogue import Product
from retailos.sim.store.suites import Suite

PLATE_DEPTH_M = 0.45
GONDOLA_DEPTH_M = 0.5
AISLE_WIDTH_M = 2.1
WALL_MARGIN_M = 0.6
FRONT_ZONE_M = 3.2  # gates, then the front cross aisle, then the gondolas
BACK_AISLE_M = 1.6
PLATE_WIDTHS_M = (0.3, 0.4, 0.45, 0.5, 0.6)
MAX_PLATE_LOAD_G = 15_000.0
HEAVY_UNIT_G = 1_500.0  # plates are rated 20 kg; shelves are not filled to the limit


@dataclass(frozen=True)
class Layout:
    plate_ids: list[str]
    gondola: np.ndarray  # int [P]
    shelf: np.ndarray  # int [P], 1 = lowest
    index: np.ndarray  # int [P], position along the shelf
    center: np.ndarray  # float [P, 3]: middle of the plate's top surface
    width: np.ndarray  # float [P]
    depth: np.ndarray  # float [P]
    facing: np.ndarray  # float [P, 2]: unit vector from the shelf into the aisle
    aisle_of_plate: np.ndarray  # int [P]
    aisle_x: np.ndarray  # float [A]: centre line of each aisle
    y_front: float  # front cross aisle
    y_back: float  # back cross aisle
    gates: list[tuple[str, np.ndarray]]  # (id, centre [3])
    width_m: float
    length_m: float

    @property
    def n_plates(self) -> int:
        return len(self.plate_ids)

    def front_edge(self, plate: int) -> np.ndarray:
        """The middle of the plate's front edge, on its top surface."""
        c = self.center[plate]
        f = self.facing[plate]
        return np.array([c[0] + f[0] * self.depth[plate] / 2, c[1] + f[1] * self.depth[plate] / 2,
                         c[2]])  # fmt: skip

    def same_shelf(self, plate: int) -> np.ndarray:
        """Indices of the plates on the same shelf of the same gondola, this one included."""
        return np.flatnonzero(
            (self.gondola == self.gondola[plate]) & (self.shelf == self.shelf[plate])
        )


def build_layout(suite: Suite, rng: np.random.Generator) -> Layout:
    shelf_z = np.linspace(0.2, 1.8, suite.shelves)
    y0 = FRONT_ZONE_M
    length = suite.gondola_length_m
    rows: dict[str, list] = {k: [] for k in ("id", "g", "s", "i", "c", "w", "f", "a")}
    aisle_x = []
    x = WALL_MARGIN_M + GONDOLA_DEPTH_M
    gondola = 0
    for aisle in range(suite.aisles):
        aisle_x.append(x + AISLE_WIDTH_M / 2)
        # The left face looks +x into this aisle, the right face -x.
        for face_x, facing in ((x, 1.0), (x + AISLE_WIDTH_M, -1.0)):
            gondola += 1
            for s, z in enumerate(shelf_z, start=1):
                width = float(rng.choice(PLATE_WIDTHS_M))
                n = int(length // width)
                for i in range(n):
                    rows["id"].append(f"g{gondola}-s{s}-p{i + 1}")
                    rows["g"].append(gondola)
                    rows["s"].append(s)
                    rows["i"].append(i + 1)
                    rows["c"].append(
                        (face_x - facing * PLATE_DEPTH_M / 2, y0 + (i + 0.5) * width, float(z))
                    )
                    rows["w"].append(width)
                    rows["f"].append((facing, 0.0))
                    rows["a"].append(aisle)
        x += AISLE_WIDTH_M + 2 * GONDOLA_DEPTH_M
    store_width = x - GONDOLA_DEPTH_M + WALL_MARGIN_M
    gates = [
        (f"gate-{k + 1}", np.array([gx, 0.2, 0.0]))
        for k, gx in enumerate(np.linspace(1.2, min(store_width - 1.2, 4.0), 2))
    ]
    return Layout(
        plate_ids=rows["id"],
        gondola=np.array(rows["g"]),
        shelf=np.array(rows["s"]),
        index=np.array(rows["i"]),
        center=np.round(np.array(rows["c"], dtype=np.float64), 4),
        width=np.array(rows["w"]),
        depth=np.full(len(rows["id"]), PLATE_DEPTH_M),
        facing=np.array(rows["f"], dtype=np.float64),
        aisle_of_plate=np.array(rows["a"]),
        aisle_x=np.array(aisle_x),
        y_front=y0 - 1.3,
        y_back=y0 + length + BACK_AISLE_M / 2,
        gates=gates,
        width_m=store_width,
        length_m=y0 + length + BACK_AISLE_M,
    )


@dataclass(frozen=True)
class Shelving:
    """Where each product is meant to be, and what each plate holds at the start."""

    planogram: dict[str, list[int]]  # sku -> plates
    home_sku: list[list[str]]  # plate -> skus planned there
    initial_counts: list[dict[str, int]]  # plate -> sku -> count


def plan_shelves(layout: Layout, products: list[Product], rng: np.random.Generator) -> Shelving:
    """Lay products along each shelf in runs of 1-4 adjacent plates; some plates hold two."""
    by_weight = {p.sku: p.weight_g for p in products}
    home: list[list[str]] = [[] for _ in range(layout.n_plates)]
    planogram: dict[str, list[int]] = {}
    # Walk shelves in order, handing each product a run of plates, like a real planogram.
    # Heavy goods (gallons, big bags) go on the low shelves and take longer runs.
    order = [int(i) for i in rng.permutation(len(products))]
    heavy = [i for i in order if products[i].weight_g >= HEAVY_UNIT_G]
    light = [i for i in order if products[i].weight_g < HEAVY_UNIT_G]
    shelves = sorted({(int(g), int(s)) for g, s in zip(layout.gondola, layout.shelf, strict=True)})
    if not order:
        raise ValueError("a store needs at least one product")
    for g, s in shelves:
        plates = np.flatnonzero((layout.gondola == g) & (layout.shelf == s))
        plates = plates[np.argsort(layout.index[plates])]
        low = float(layout.center[plates[0], 2]) < 0.7
        i = 0
        while i < len(plates):
            first, second = (heavy, light) if low and rng.uniform() < 0.8 else (light, heavy)
            source = first if first else second
            if not source:  # every product placed once: start the rotation again
                heavy.extend(k for k in order if products[k].weight_g >= HEAVY_UNIT_G)
                light.extend(k for k in order if products[k].weight_g < HEAVY_UNIT_G)
                continue
            product = products[source.pop(0)]
            run = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
            if product.weight_g >= HEAVY_UNIT_G:
                run = max(run, 2)
            run = min(run, len(plates) - i)
            for p in plates[i : i + run]:
                home[int(p)].append(product.sku)
            planogram.setdefault(product.sku, []).extend(int(p) for p in plates[i : i + run])
            i += run
    # A share of plates also carries a second product (a small item beside a big one).
    for p in rng.choice(layout.n_plates, size=layout.n_plates // 8, replace=False):
        extra = products[int(rng.integers(len(products)))]
        if extra.sku not in home[int(p)]:
            home[int(p)].append(extra.sku)
            planogram.setdefault(extra.sku, []).append(int(p))

    counts: list[dict[str, int]] = []
    for p in range(layout.n_plates):
        share = MAX_PLATE_LOAD_G / len(home[p])
        plate_counts = {}
        for sku in home[p]:
            most = max(1, min(12, int(share // by_weight[sku])))
            plate_counts[sku] = int(rng.integers(max(1, most // 2), most + 1))
        counts.append(plate_counts)
    return Shelving(
        planogram={k: sorted(set(v)) for k, v in planogram.items()},
        home_sku=home,
        initial_counts=counts,
    )
