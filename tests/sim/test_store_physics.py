"""Plate physics: hands and knocks disturb readings, only moved units change the level."""

from __future__ import annotations

import numpy as np
import pytest

from retailos.sim.store.layout import build_layout
from retailos.sim.store.physics import SAMPLE_RATE_HZ, synthesize_weights
from retailos.sim.store.stock import LoadEvent
from retailos.sim.store.suites import Suite, get_suite


def _quiet_suite(**overrides: float) -> Suite:
    base = {"bump_per_minute": 0.0, "nan_rate": 0.0, "gaps_per_minute": 0.0,
            "spike_rate": 0.0, "drift_g_per_min": 0.0}  # fmt: skip
    base.update(overrides)
    return get_suite("standard", **base)


def _level(weights: np.ndarray, times: np.ndarray, plate: int, t0: float, t1: float) -> float:
    return float(np.nanmedian(weights[(times >= t0) & (times < t1), plate]))


def test_a_touch_disturbs_the_plate_but_leaves_its_level() -> None:
    suite = _quiet_suite()
    layout = build_layout(suite, np.random.default_rng(1))
    touch = LoadEvent(plate=3, t_arrive=5.0, t_change=5.4, t_leave=6.0, grams=0.0,
                      long_hold=False)  # fmt: skip
    weights, times = synthesize_weights(
        layout, np.zeros(layout.n_plates), [touch], suite, 12.0, np.random.default_rng(2)
    )
    during = weights[(times > 5.1) & (times < 5.9), 3]
    before = _level(weights, times, 3, 1.0, 4.0)
    assert np.max(np.abs(during - before)) > 10.0  # the hand shows
    assert _level(weights, times, 3, 8.0, 11.0) == pytest.approx(before, abs=3.0)


def test_a_pick_lowers_the_level_by_the_units_weight_after_the_hand_settles() -> None:
    suite = _quiet_suite()
    layout = build_layout(suite, np.random.default_rng(1))
    pick = LoadEvent(plate=7, t_arrive=5.0, t_change=9.0, t_leave=11.0, grams=-368.0,
                     long_hold=True)  # fmt: skip
    weights, times = synthesize_weights(
        layout, np.zeros(layout.n_plates), [pick], suite, 20.0, np.random.default_rng(3)
    )
    change = _level(weights, times, 7, 14.0, 19.0) - _level(weights, times, 7, 1.0, 4.5)
    assert change == pytest.approx(-368.0, abs=3.0)


def test_knocks_ring_plates_without_changing_any_load() -> None:
    suite = _quiet_suite(bump_per_minute=30.0)
    layout = build_layout(suite, np.random.default_rng(1))
    weights, times = synthesize_weights(
        layout, np.zeros(layout.n_plates), [], suite, 60.0, np.random.default_rng(4)
    )
    swing = np.max(np.abs(np.diff(weights, axis=0)), axis=0)
    assert np.sum(swing > 30.0) > 0  # something rang
    start = np.nanmedian(weights[: 5 * SAMPLE_RATE_HZ], axis=0)
    end = np.nanmedian(weights[-5 * SAMPLE_RATE_HZ :], axis=0)
    assert np.max(np.abs(end - start)) < 6.0  # the slow random-walk drift only


def test_lost_rows_leave_gaps_and_times_stay_strictly_increasing() -> None:
    suite = _quiet_suite(gaps_per_minute=20.0, nan_rate=1e-3)
    layout = build_layout(suite, np.random.default_rng(1))
    weights, times = synthesize_weights(
        layout, np.zeros(layout.n_plates), [], suite, 30.0, np.random.default_rng(5)
    )
    assert weights.dtype == np.float32 and weights.shape == (len(times), layout.n_plates)
    assert np.all(np.diff(times) > 0)
    assert np.max(np.diff(times)) > 1.5 / SAMPLE_RATE_HZ
    assert np.isnan(weights).any()
