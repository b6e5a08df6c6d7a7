"""Store layout as arrays: plate geometry, catalogue, planogram and starting stock from store.json.

Everything the engine needs to know about the store is turned into numpy arrays once, so the
hot paths index arrays instead of walking dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

# How far above a plate's surface a hand can still be touching what stands on it (metres). The
# shelf above bounds it; this is the cap for a top shelf.
MAX_ITEM_HEIGHT_M = 0.35
# A hand takes goods by their lower part: the share of the gap to the next shelf up counted as
# this plate's space. Keeping it well below 1 tells a reach for this shelf from the next one.
ROOM_SHARE = 0.6


@dataclass(frozen=True)
class StoreLayout:
    """Plates, products and where products are meant to be, as arrays indexed by plate / sku."""

    plate_ids: list[str]
    center: np.ndarray  # float64 [P, 3]
    facing: np.ndarray  # float64 [P, 2] unit vector from shelf into aisle
    along: np.ndarray  # float64 [P, 2] unit vector along the shelf
    half_width: np.ndarray  # float64 [P]
    half_depth: np.ndarray  # float64 [P]
    item_height: np.ndarray  # float64 [P] room above the plate up to the next shelf
    shelf_key: np.ndarray  # int64 [P] one id per (gondola, shelf)
    skus: list[str]
    unit_weight: np.ndarray  # float64 [S]
    unit_sd: np.ndarray  # float64 [S]
    planogram: np.ndarray  # bool [P, S] sku s is meant to be on plate p
    initial_stock: np.ndarray  # int64 [P, S]
    sample_rate_hz: float

    @property
    def n_plates(self) -> int:
        return len(self.plate_ids)

    @property
    def n_skus(self) -> int:
        return len(self.skus)

    def distance_to_plates(self, points: np.ndarray, plates: np.ndarray) -> np.ndarray:
        """Distance (m) from each point [N, 3] to the space just above each plate [M]: [N, M].

        The space is the plate's top rectangle extended upwards by the room for items, so a hand
        grasping a tall bottle on the plate is at distance zero. NaN points give NaN.
        """
        cx, cy, cz, ax, ay, fx, fy, half_width, half_depth, room = self._geometry[plates].T
        dx, dy = points[:, None, 0] - cx, points[:, None, 1] - cy
        u, v = np.abs(dx * ax + dy * ay), np.abs(dx * fx + dy * fy)
        z = points[:, None, 2] - cz
        du = np.maximum(u - half_width, 0.0)
        dv = np.maximum(v - half_depth, 0.0)
        dz = np.maximum(z - room, 0.0) + np.maximum(-0.05 - z, 0.0)
        return np.sqrt(du * du + dv * dv + dz * dz)

    def floor_distance_to_front(self, points: np.ndarray, plates: np.ndarray) -> np.ndarray:
        """Distance on the floor (m) from points [N, 3] to each plate's front edge [M]: [N, M].

        A point over the plate counts as at its front; a point beyond the plate's back edge is
        on the other side of the shelf (the next aisle, behind a back-to-back gondola), which a
        hand cannot reach through: it is as far as the front edge's line, not zero.
        """
        cx, cy, _, ax, ay, fx, fy, half_width, half_depth, _ = self._geometry[plates].T
        dx, dy = points[:, None, 0] - cx, points[:, None, 1] - cy
        u, v = dx * ax + dy * ay, dx * fx + dy * fy - half_depth
        du = np.maximum(np.abs(u) - half_width, 0.0)
        dv = np.where(v < -2.0 * half_depth, -v, np.maximum(v, 0.0))
        return np.sqrt(du * du + dv * dv)

    def may_be_near(self, points: np.ndarray, plates: np.ndarray, reach: float) -> np.ndarray:
        """Mask [N] of the points [N, 3] that may lie within `reach` of one of the plates (M>0);
        by either distance above, the others certainly do not (and NaN points are not near).

        A bound from one circle on the floor around all the plates: cheap, to narrow a query
        over everyone in a big store before measuring the few who may be close. Either
        distance is at least the floor distance to the plate's rectangle, which is at least
        the distance to its centre less its half-diagonal. (1e-6 m: a margin for rounding.)
        """
        cx, cy, _, _, _, _, _, half_width, half_depth, _ = self._geometry[plates].T
        # any middle gives a bound; between the first and the last plate (a shelf's run of
        # neighbours comes in order along it) keeps the circle small
        mx, my = (cx[0] + cx[-1]) / 2, (cy[0] + cy[-1]) / 2
        radius = (np.hypot(cx - mx, cy - my) + np.hypot(half_width, half_depth)).max()
        return np.hypot(points[:, 0] - mx, points[:, 1] - my) < radius + reach + 1e-6

    @cached_property
    def _geometry(self) -> np.ndarray:
        """[P, 10] per plate: centre xyz, along xy, facing xy, half width, half depth, room
        above; the distances above gather a query's plates in one go (the (u, v) offsets are
        written out rather than as an einsum, which cost more per call on small queries)."""
        return np.column_stack([self.center, self.along, self.facing, self.half_width,
                                self.half_depth, self.item_height])


def _room_above(center: np.ndarray, gondola: np.ndarray) -> np.ndarray:
    """Vertical room above each plate before the next shelf of its gondola, capped."""
    room = np.full(len(center), MAX_ITEM_HEIGHT_M)
    for g in np.unique(gondola):
        members = np.flatnonzero(gondola == g)
        heights = np.unique(np.round(center[members, 2], 3))
        for i in members:
            above = heights[heights > center[i, 2] + 1e-3]
            if len(above):
                room[i] = min(MAX_ITEM_HEIGHT_M, ROOM_SHARE * (above[0] - center[i, 2]))
    return room


def build_layout(store: dict[str, Any]) -> StoreLayout:
    """Turn a parsed store.json into a StoreLayout."""
    plates = store["plates"]
    plate_ids = [str(p["id"]) for p in plates]
    plate_index = {pid: i for i, pid in enumerate(plate_ids)}
    center = np.array([p["center"] for p in plates], dtype=np.float64).reshape(-1, 3)
    facing = np.array([p["facing"] for p in plates], dtype=np.float64).reshape(-1, 2)
    norm = np.linalg.norm(facing, axis=1, keepdims=True)
    facing = facing / np.where(norm > 0, norm, 1.0)
    along = np.stack([-facing[:, 1], facing[:, 0]], axis=1)
    gondola = np.array([p.get("gondola", 0) for p in plates])
    shelf = np.array([p.get("shelf", 0) for p in plates])
    _, shelf_key = np.unique(
        np.array([f"{g}/{s}" for g, s in zip(gondola, shelf, strict=True)]), return_inverse=True
    )
    products = store["products"]
    skus = [str(p["sku"]) for p in products]
    sku_index = {s: i for i, s in enumerate(skus)}
    unit_weight = np.array([float(p["weight_g"]) for p in products], dtype=np.float64)
    unit_sd = np.array([float(p.get("weight_sd_g", 0.0)) for p in products], dtype=np.float64)
    planogram = np.zeros((len(plates), len(skus)), dtype=bool)
    for entry in store.get("planogram", []):
        s = sku_index.get(str(entry["sku"]))
        if s is None:
            continue
        for pid in entry["plates"]:
            if pid in plate_index:
                planogram[plate_index[pid], s] = True
    stock = np.zeros((len(plates), len(skus)), dtype=np.int64)
    for entry in store.get("initial_stock", []):
        p_i = plate_index.get(entry["plate"])
        s_i = sku_index.get(str(entry["sku"]))
        if p_i is not None and s_i is not None:
            stock[p_i, s_i] += int(entry["count"])
    return StoreLayout(
        plate_ids=plate_ids,
        center=center,
        facing=facing,
        along=along,
        half_width=np.array([float(p["width"]) / 2 for p in plates]),
        half_depth=np.array([float(p["depth"]) / 2 for p in plates]),
        item_height=_room_above(center, gondola),
        shelf_key=shelf_key.astype(np.int64),
        skus=skus,
        unit_weight=unit_weight,
        unit_sd=unit_sd,
        planogram=planogram,
        initial_stock=stock,
        sample_rate_hz=float(store.get("sample_rate_hz", 60.0)),
    )
