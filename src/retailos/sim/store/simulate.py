"""Simulate a walk-out store for some minutes and write the recording with its truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from retailos.sim.store.catalogue import BasketSampler, Product, choose_assortment
from retailos.sim.store.layout import Layout, Shelving, build_layout, plan_shelves
from retailos.sim.store.people import Plan, plan_visits
from retailos.sim.store.perception import render_tracks
from retailos.sim.store.physics import SAMPLE_RATE_HZ, synthesize_weights
from retailos.sim.store.stock import settle
from retailos.sim.store.suites import get_suite
from retailos.walkout.recording import FORMAT, Gates, Tracks, write_recording


def simulate(suite: str, seed: int, minutes: float, out: Path) -> Path:
    """Write a recording of `minutes` of suite `suite` to folder `out`; same seed, same files."""
    config = get_suite(suite)
    if not minutes > 0:
        raise ValueError("minutes must be > 0")
    duration = float(minutes) * 60.0
    # Independent streams, so that changing one part does not reshuffle the others.
    streams = np.random.SeedSequence([seed, 0x57A0E]).spawn(6)
    rng_layout, rng_catalogue, rng_people, rng_stock, rng_sensors, rng_vision = (
        np.random.default_rng(s) for s in streams
    )
    layout = build_layout(config, rng_layout)
    products = choose_assortment(
        max(10, int(layout.n_plates * config.skus_per_plate)), config.same_size_bias, rng_catalogue
    )
    shelving = plan_shelves(layout, products, rng_catalogue)
    products = [p for p in products if p.sku in shelving.planogram]
    baskets = BasketSampler(products)
    plan = plan_visits(layout, shelving, baskets, config, duration, rng_people)
    outcome = settle(plan, layout, shelving, products, rng_stock)
    weights, times = synthesize_weights(
        layout, outcome.initial_load_g, outcome.load_events, config, duration, rng_sensors
    )
    tracks = render_tracks(plan, layout, config, rng_vision)
    store = store_document(layout, shelving, products, f"sim-{config.name}-{seed}")
    # Stores face every way: turn the whole floor by a multiple of 90 degrees, so nothing
    # downstream can rely on aisles running along one axis.
    quarter_turns = int(rng_layout.integers(4))
    store, tracks = orient(store, tracks, quarter_turns, layout.width_m, layout.length_m)
    truth = {
        "suite": config.name,
        "seed": seed,
        "receipts": outcome.receipts,
        "actions": outcome.actions,
    }
    out = Path(out)
    write_recording(
        out,
        store,
        weights,
        times,
        tracks,
        gate_events(plan, layout, rng_people),
        truth,
    )
    return out


def orient(
    store: dict[str, Any], tracks: Tracks, quarter_turns: int, width_m: float, length_m: float
) -> tuple[dict[str, Any], Tracks]:
    """Rotate the floor plan and every tracked point about z, keeping coordinates positive."""
    angle = quarter_turns * np.pi / 2
    c, s = round(float(np.cos(angle))), round(float(np.sin(angle)))
    rotation = np.array([[c, -s], [s, c]], dtype=np.float64)
    corners = np.array([[0.0, 0.0], [width_m, 0.0], [0.0, length_m], [width_m, length_m]])
    shift = -(corners @ rotation.T).min(axis=0)

    def place(xy: np.ndarray) -> np.ndarray:
        return xy @ rotation.T + shift

    for plate in store["plates"]:
        plate["center"][:2] = [round(float(v), 4) for v in place(np.array(plate["center"][:2]))]
        plate["facing"] = [float(v) for v in np.array(plate["facing"]) @ rotation.T]
    for gate in store["gates"]:
        gate["center"][:2] = [round(float(v), 4) for v in place(np.array(gate["center"][:2]))]

    def turned(points: np.ndarray) -> np.ndarray:
        out = np.array(points, dtype=np.float64)
        out[:, :2] = place(out[:, :2])  # NaN wrists stay NaN
        return out.astype(points.dtype)

    return store, replace(
        tracks, head=turned(tracks.head), lwrist=turned(tracks.lwrist), rwrist=turned(tracks.rwrist)
    )


def store_document(
    layout: Layout, shelving: Shelving, products: list[Product], store_id: str
) -> dict[str, Any]:
    plates = [
        {
            "id": layout.plate_ids[p],
            "gondola": int(layout.gondola[p]),
            "shelf": int(layout.shelf[p]),
            "index": int(layout.index[p]),
            "center": [round(float(v), 4) for v in layout.center[p]],
            "width": float(layout.width[p]),
            "depth": float(layout.depth[p]),
            "facing": [float(v) for v in layout.facing[p]],
        }
        for p in range(layout.n_plates)
    ]
    return {
        "format": FORMAT,
        "store_id": store_id,
        "sample_rate_hz": SAMPLE_RATE_HZ,
        "currency": "USD",
        "plates": plates,
        "products": [
            {
                "sku": p.sku,
                "name": p.name,
                "weight_g": p.weight_g,
                "weight_sd_g": p.weight_sd_g,
                "price_minor": p.price_minor,
            }
            for p in products
        ],  # fmt: skip
        "planogram": [
            {"sku": sku, "plates": [layout.plate_ids[p] for p in plates_]}
            for sku, plates_ in sorted(shelving.planogram.items())
        ],
        "initial_stock": [
            {"plate": layout.plate_ids[p], "sku": sku, "count": count}
            for p, counts in enumerate(shelving.initial_counts)
            for sku, count in counts.items()
        ],
        "gates": [
            {"id": gid, "center": [float(v) for v in centre]} for gid, centre in layout.gates
        ],
    }


def gate_events(plan: Plan, layout: Layout, rng: np.random.Generator) -> Gates:
    gate_ids = [gid for gid, _ in layout.gates]
    rows: list[tuple[float, int, str, int, str, str, str]] = []
    for k, m in enumerate(plan.members):
        group = plan.groups[plan.group_of_member[k]]
        start = np.asarray(group.key_xy[0])
        gate = min(range(len(gate_ids)), key=lambda g: float(
            np.linalg.norm(layout.gates[g][1][:2] - start)))  # fmt: skip
        rows.append((m.t_enter, 0, "enter", m.track_id, m.account_id, m.role, gate_ids[gate]))
        rows.append((m.t_exit, 1, "exit", m.track_id, m.account_id, m.role, gate_ids[gate]))
    rows.sort(key=lambda r: (r[0], r[1], r[3]))
    return Gates(
        t=np.array([r[0] for r in rows], dtype=np.float64),
        event=np.array([r[2] for r in rows], dtype=object),
        track_id=np.array([r[3] for r in rows], dtype=np.int64),
        account_id=np.array([r[4] for r in rows], dtype=object),
        role=np.array([r[5] for r in rows], dtype=object),
        gate_id=np.array([r[6] for r in rows], dtype=object),
    )
