"""Hand-built store scenes for engine unit tests: a tiny store, plate signals and body tracks.

A scene is built by stating what happens (a reach, a step in a plate's load, a gate event);
`recording()` turns it into the arrays of a store recording so tests can feed real chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retailos.walkout.engine import Engine
from retailos.walkout.recording import Gates, Recording, Tracks, iter_chunks

RATE = 60.0
FPS = 15.0
SHELF_Y = 2.0  # front edge of the gondola; the aisle is at y < 2
SHELF_Z = (0.5, 1.0, 1.5)


def make_store(
    products: list[tuple[str, float, float]],
    stock: dict[tuple[int, int], dict[str, int]],
    plates_per_shelf: int = 4,
    planogram: dict[str, list[tuple[int, int]]] | None = None,
) -> dict[str, Any]:
    """One gondola, three shelves of `plates_per_shelf` plates 0.4 m wide, facing -y.

    Plates are addressed (shelf, index); `stock` gives the starting units per plate, and the
    planogram defaults to where the stock is.
    """
    plates = []
    for s, z in enumerate(SHELF_Z):
        for i in range(plates_per_shelf):
            plates.append(
                {"id": f"g1-s{s}-p{i}", "gondola": 1, "shelf": s, "index": i,
                 "center": [0.2 + 0.4 * i, SHELF_Y + 0.225, z], "width": 0.4, "depth": 0.45,
                 "facing": [0.0, -1.0]}
            )
    if planogram is None:
        planogram = {}
        for (s, i), units in stock.items():
            for sku in units:
                planogram.setdefault(sku, []).append((s, i))
    return {
        "format": "retailos.store-recording/1",
        "store_id": "test",
        "sample_rate_hz": RATE,
        "currency": "USD",
        "plates": plates,
        "products": [
            {"sku": sku, "name": sku, "weight_g": w, "weight_sd_g": sd, "price_minor": 100}
            for sku, w, sd in products
        ],
        "planogram": [
            {"sku": sku, "plates": [f"g1-s{s}-p{i}" for s, i in where]}
            for sku, where in planogram.items()
        ],
        "initial_stock": [
            {"plate": f"g1-s{s}-p{i}", "sku": sku, "count": n}
            for (s, i), units in stock.items()
            for sku, n in units.items()
        ],
        "gates": [{"id": "gate-1", "center": [0.0, 0.0, 0.0]}],
    }


def plate_front(store: dict[str, Any], shelf: int, index: int) -> np.ndarray:
    plate = next(p for p in store["plates"] if p["shelf"] == shelf and p["index"] == index)
    c = np.array(plate["center"], dtype=np.float64)
    return np.array([c[0], SHELF_Y + 0.05, c[2] + 0.05])


@dataclass
class Scene:
    store: dict[str, Any]
    duration: float
    noise_g: float = 0.5
    seed: int = 0
    gates: list[tuple[float, str, int, str, str]] = field(default_factory=list)
    _heads: dict[int, list[tuple[float, float, np.ndarray]]] = field(default_factory=dict)
    _reaches: list[tuple[int, float, float, np.ndarray, str]] = field(default_factory=list)
    _blind: list[tuple[int, float, float, str]] = field(default_factory=list)
    _spoilt: list[tuple[int, float, float, np.ndarray, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.times = np.arange(int(self.duration * RATE)) / RATE
        n_plates = len(self.store["plates"])
        tare = rng.uniform(500, 3000, n_plates)
        self.load = np.zeros((len(self.times), n_plates))
        self.load += tare
        stocked = {p["plate"]: 0.0 for p in self.store["initial_stock"]}
        weights = {p["sku"]: p["weight_g"] for p in self.store["products"]}
        for entry in self.store["initial_stock"]:
            stocked[entry["plate"]] += entry["count"] * weights[entry["sku"]]
        for j, plate in enumerate(self.store["plates"]):
            self.load[:, j] += stocked.get(plate["id"], 0.0)
        self.noise = rng.normal(0, self.noise_g, self.load.shape)
        self.rng = rng

    def plate(self, shelf: int, index: int) -> int:
        return next(
            j for j, p in enumerate(self.store["plates"])
            if p["shelf"] == shelf and p["index"] == index
        )

    # ---- what happens --------------------------------------------------------------------

    def person(self, track_id: int, account: str, t_in: float, t_out: float,
               x: float, role: str = "shopper", y: float = SHELF_Y - 0.45) -> None:
        """A person who enters, walks to stand at x in the aisle, and leaves at t_out.

        `y` puts them elsewhere: beyond the gondola's back (y > SHELF_Y + 0.45) is the next
        aisle, behind the shelf.
        """
        self.gates += [(t_in, "enter", track_id, account, role), (t_out, "exit", track_id,
                                                                   account, role)]
        self._heads[track_id] = [(t_in, t_out, np.array([x, y, 1.6]))]

    def move(self, track_id: int, t: float, x: float) -> None:
        """From time t the person stands at x."""
        spans = self._heads[track_id]
        t_in, t_out, pos = spans[-1]
        spans[-1] = (t_in, t, pos)
        spans.append((t, t_out, np.array([x, SHELF_Y - 0.45, 1.6])))

    def reach(self, track_id: int, shelf: int, index: int, t0: float, t1: float,
              hand: str = "r", x: float | None = None, short_m: float = 0.0) -> None:
        """The person's wrist is at the plate's front during [t0, t1] (at `x` along the
        shelf, if given, instead of the plate's middle; `short_m` in front of it)."""
        where = plate_front(self.store, shelf, index)
        if x is not None:
            where[0] = x
        where[1] -= short_m
        self._reaches.append((track_id, t0, t1, where, hand))

    def wrists_unseen(self, track_id: int, t0: float, t1: float, hand: str = "both") -> None:
        """The person's wrists (or only the "l" or "r" one) are not seen during [t0, t1]."""
        self._blind.append((track_id, t0, t1, hand))

    def spoilt_read(self, track_id: int, t0: float, t1: float, where: np.ndarray,
                    conf: float, hand: str = "r") -> None:
        """During [t0, t1] the perception layer misplaces the person's wrist at `where` and
        says so with a low `conf` for those frames."""
        self._spoilt.append((track_id, t0, t1, where, conf))
        self._reaches.append((track_id, t0, t1, where, hand))

    def step(self, shelf: int, index: int, t: float, delta: float, touch_s: float = 0.6,
             hold_g: float = 0.0, shake_g: float = 40.0) -> None:
        """The plate's load changes by delta at t, after a hand-contact transient of touch_s."""
        j = self.plate(shelf, index)
        touch = (self.times >= t - touch_s) & (self.times < t)
        n = int(touch.sum())
        self.load[touch, j] += hold_g + self.rng.normal(0, shake_g, n) * np.hanning(n)
        self.load[self.times >= t, j] += delta

    def bump(self, shelf: int, index: int, t: float, shake_g: float = 150.0,
             seconds: float = 0.8) -> None:
        """The plate shakes and comes back to the same load."""
        j = self.plate(shelf, index)
        span = (self.times >= t) & (self.times < t + seconds)
        n = int(span.sum())
        self.load[span, j] += shake_g * np.sin(np.arange(n) * 1.3) * np.hanning(n)

    def drift(self, shelf: int, index: int, grams_per_minute: float) -> None:
        self.load[:, self.plate(shelf, index)] += grams_per_minute * self.times / 60.0

    # ---- as a recording ------------------------------------------------------------------

    def _tracks(self) -> Tracks:
        rows_t, rows_id, heads, lws, rws, confs = [], [], [], [], [], []
        for tid, spans in self._heads.items():
            for t0, t1, pos in spans:
                t = np.arange(np.ceil(t0 * FPS), np.floor(t1 * FPS)) / FPS
                t = t[(t > t0) & (t < t1)]
                head = np.repeat(pos[None, :], len(t), axis=0)
                lw = head + np.array([-0.25, 0.1, -0.6])
                rw = head + np.array([0.25, 0.1, -0.6])
                for r_tid, r0, r1, where, hand in self._reaches:
                    if r_tid != tid:
                        continue
                    on = (t >= r0) & (t <= r1)
                    (rw if hand == "r" else lw)[on] = where
                for b_tid, b0, b1, b_hand in self._blind:
                    if b_tid == tid:
                        off = (t >= b0) & (t <= b1)
                        if b_hand != "r":
                            lw[off] = np.nan
                        if b_hand != "l":
                            rw[off] = np.nan
                conf = np.ones(len(t))
                for s_tid, s0, s1, _, s_conf in self._spoilt:
                    if s_tid == tid:
                        conf[(t >= s0) & (t <= s1)] = s_conf
                confs.append(conf)
                rows_t.append(t)
                rows_id.append(np.full(len(t), tid))
                heads.append(head)
                lws.append(lw)
                rws.append(rw)
        t = np.concatenate(rows_t) if rows_t else np.empty(0)
        order = np.argsort(t, kind="stable")

        def cat(parts: list[np.ndarray], width: int) -> np.ndarray:
            if not parts:
                return np.empty((0, width), dtype=np.float32)
            return np.concatenate(parts)[order].astype(np.float32)

        return Tracks(
            t=t[order],
            track_id=(np.concatenate(rows_id) if rows_id else np.empty(0))[order].astype(np.int64),
            conf=(np.concatenate(confs) if confs else np.empty(0))[order].astype(np.float32),
            head=cat(heads, 3),
            lwrist=cat(lws, 3),
            rwrist=cat(rws, 3),
        )

    def _gates(self) -> Gates:
        rows = sorted(self.gates)
        return Gates(
            t=np.array([r[0] for r in rows], dtype=np.float64),
            event=np.array([r[1] for r in rows], dtype=object),
            track_id=np.array([r[2] for r in rows], dtype=np.int64),
            account_id=np.array([r[3] for r in rows], dtype=object),
            role=np.array([r[4] for r in rows], dtype=object),
            gate_id=np.array(["gate-1"] * len(rows), dtype=object),
        )

    def recording(self, drop_rows: np.ndarray | None = None,
                  nan_rate: float = 0.0) -> Recording:
        weights = (self.load + self.noise).astype(np.float32)
        times = self.times.copy()
        if nan_rate:
            weights[self.rng.random(weights.shape) < nan_rate] = np.nan
        if drop_rows is not None:
            keep = np.ones(len(times), dtype=bool)
            keep[drop_rows] = False
            weights, times = weights[keep], times[keep]
        return Recording(
            path=Path("."), store=self.store, weights=weights, weight_times=times,
            tracks=self._tracks(), gates=self._gates(), truth=None,
        )


def run(recording: Recording, seconds: float = 1.0) -> tuple[Engine, list[dict[str, Any]]]:
    """Feed a recording through a fresh engine; return it and every receipt it issued."""
    engine = Engine(recording.store)
    receipts: list[dict[str, Any]] = []
    for chunk in iter_chunks(recording, seconds):
        receipts += engine.feed(chunk)
    receipts += engine.finish()
    return engine, receipts


def items(receipts: list[dict[str, Any]], account: str) -> dict[str, int]:
    (receipt,) = [r for r in receipts if r["account_id"] == account]
    return {item["sku"]: item["qty"] for item in receipt["items"]}
