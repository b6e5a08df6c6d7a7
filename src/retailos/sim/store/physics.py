"""Load-cell readings at 60 Hz: tare, drift, load, noise, hands, bumps and lost samples.

reading = tare (unknown, per plate) + drift (linear plus random walk) + load (true unit
weights) + noise + disturbances. A hand on a plate presses and lifts for a while before the
new level settles; neighbours on the same shelf feel it faintly; a bumped gondola rings
without any change of load. Rows go missing in short gaps, single readings turn NaN and
now and then one reading jumps (an ADC glitch).
"""

from __future__ import annotations

import numpy as np

from retailos.sim.store.layout import Layout
from retailos.sim.store.stock import LoadEvent
from retailos.sim.store.suites import Suite

SAMPLE_RATE_HZ = 60
STEP_S = 0.12  # a unit leaves or lands on the plate over about this long


def synthesize_weights(
    layout: Layout,
    initial_load_g: np.ndarray,
    events: list[LoadEvent],
    suite: Suite,
    duration_s: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Readings [T, P] float32 with NaNs, and their times [T] float64 (rows may be missing)."""
    n = int(round(duration_s * SAMPLE_RATE_HZ)) + 1
    plates = layout.n_plates
    times = np.arange(n) / SAMPLE_RATE_HZ

    sigma = rng.uniform(1.2, 3.5, plates)
    noisy = rng.uniform(size=plates) < suite.noisy_plate_rate
    sigma[noisy] = rng.uniform(5.0, 10.0, int(noisy.sum()))
    weights = rng.standard_normal((n, plates), dtype=np.float32)
    weights *= sigma.astype(np.float32)[None, :]

    # Tare plus drift, added one second at a time to keep memory flat.
    tare = rng.uniform(300.0, 3000.0, plates) + initial_load_g
    rate = rng.normal(0.0, suite.drift_g_per_min, plates) / 60.0  # g per second
    walk = np.cumsum(rng.normal(0.0, 0.12, (int(duration_s) + 2, plates)), axis=0)
    for second in range(int(np.ceil(n / SAMPLE_RATE_HZ))):
        rows = slice(second * SAMPLE_RATE_HZ, (second + 1) * SAMPLE_RATE_HZ)
        t = times[rows][:, None]
        weights[rows] += (tare + walk[second] + rate * t).astype(np.float32)

    for event in events:
        _apply_hand(weights, layout, event, rng)
    n_bumps = rng.poisson(suite.bump_per_minute * duration_s / 60.0)
    for _ in range(n_bumps):
        _apply_bump(weights, layout, float(rng.uniform(0, duration_s)), rng)

    glitches = rng.integers(0, weights.size, rng.binomial(weights.size, suite.spike_rate))
    weights.reshape(-1)[glitches] += rng.choice([-1.0, 1.0], len(glitches)) * rng.uniform(
        40.0, 400.0, len(glitches)
    ).astype(np.float32)
    lost = rng.integers(0, weights.size, rng.binomial(weights.size, suite.nan_rate))
    weights.reshape(-1)[lost] = np.nan
    keep = np.ones(n, dtype=bool)
    for _ in range(rng.poisson(suite.gaps_per_minute * duration_s / 60.0)):
        start = int(rng.integers(1, n - 1))
        keep[start : start + int(rng.integers(2, 40))] = False
    return np.ascontiguousarray(weights[keep]), times[keep]


def _window(t0: float, t1: float, n: int) -> tuple[int, int]:
    i0 = max(0, int(np.floor(t0 * SAMPLE_RATE_HZ)))
    i1 = min(n, int(np.ceil(t1 * SAMPLE_RATE_HZ)) + 1)
    return i0, i1


def _ringing(t: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    freq = rng.uniform(4.0, 11.0)
    tau = rng.uniform(0.08, 0.3)
    phase = rng.uniform(0, 2 * np.pi)
    return amplitude * np.exp(-np.maximum(t, 0) / tau) * np.sin(2 * np.pi * freq * t + phase)


def _hand_force(t: np.ndarray, event: LoadEvent, rng: np.random.Generator) -> np.ndarray:
    """Extra grams from fingers pressing (or lifting) while the hand is on the plate."""
    span = max(event.t_leave - event.t_arrive, 0.05)
    x = (t - event.t_arrive) / span
    envelope = np.clip(np.minimum(x, 1 - x) * span / 0.08, 0.0, 1.0)
    if event.long_hold:
        level = rng.uniform(80.0, 600.0)  # a hand resting on the goods
        wobble = rng.uniform(10.0, 50.0) * np.sin(2 * np.pi * rng.uniform(0.5, 2.5) * t)
    else:
        level = rng.uniform(-0.25, 1.0) * rng.uniform(60.0, 350.0)
        wobble = rng.uniform(5.0, 40.0) * np.sin(2 * np.pi * rng.uniform(2.0, 6.0) * t)
    jitter = np.cumsum(rng.normal(0.0, 4.0, len(t)))
    return envelope * (level + wobble + jitter)


def _apply_hand(weights: np.ndarray, layout: Layout, event: LoadEvent, rng: np.random.Generator
                ) -> None:  # fmt: skip
    n = weights.shape[0]
    p = event.plate
    # The load itself: a short ramp at t_change, then the new level for good.
    c0, c1 = _window(event.t_change - STEP_S / 2, event.t_change + STEP_S / 2, n)
    if event.grams:
        tt = np.arange(c0, c1) / SAMPLE_RATE_HZ
        ramp = np.clip((tt - (event.t_change - STEP_S / 2)) / STEP_S, 0.0, 1.0)
        weights[c0:c1, p] += (event.grams * ramp).astype(np.float32)
        weights[c1:, p] += np.float32(event.grams)
    # The hand: pressure during contact, ringing after it lets go.
    i0, i1 = _window(event.t_arrive, event.t_leave + 1.2, n)
    tt = np.arange(i0, i1) / SAMPLE_RATE_HZ
    disturbance = _hand_force(tt, event, rng)
    disturbance += _ringing(tt - event.t_leave, rng.uniform(8.0, 70.0), rng) * (tt >= event.t_leave)
    weights[i0:i1, p] += disturbance.astype(np.float32)
    # Neighbours on the same shelf feel a fraction of it through the shelf.
    shelf = layout.same_shelf(p)
    near = shelf[np.abs(layout.index[shelf] - layout.index[p]) <= 2]
    for q in near[near != p]:
        share = rng.uniform(0.02, 0.15)
        weights[i0:i1, q] += (share * disturbance).astype(np.float32)


def _apply_bump(weights: np.ndarray, layout: Layout, t: float, rng: np.random.Generator) -> None:
    """A knock rings plates without changing their load.

    Usually an elbow or a basket hits one shelf, and the plates near the spot ring; sometimes
    a cart hits the gondola and every shelf on it rings.
    """
    n = weights.shape[0]
    hit = int(rng.integers(layout.n_plates))
    if rng.uniform() < 0.7:
        shelf = layout.same_shelf(hit)
        plates = shelf[np.abs(layout.index[shelf] - layout.index[hit]) <= rng.integers(1, 5)]
    else:
        plates = np.flatnonzero(layout.gondola == layout.gondola[hit])
    i0, i1 = _window(t, t + 1.5, n)
    tt = np.arange(i0, i1) / SAMPLE_RATE_HZ - t
    strength = rng.uniform(15.0, 160.0)
    for q in plates:
        weights[i0:i1, q] += _ringing(tt, strength * rng.uniform(0.3, 1.0), rng).astype(np.float32)
