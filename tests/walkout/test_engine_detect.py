"""Load-change detection on hand-built plate signals."""

from __future__ import annotations

import numpy as np
import pytest

from retailos.walkout.engine.signal import LoadChange, LoadChangeDetector

RATE = 60.0


def no_hands(plates: np.ndarray, t: float) -> np.ndarray:
    return np.zeros(len(plates), dtype=bool)


def signal(seconds: float, plates: int = 3, noise: float = 0.5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    return rng.uniform(800, 2000, plates)[None, :] + rng.normal(0, noise, (n, plates))


def detect(weights: np.ndarray, times: np.ndarray | None = None, chunk_s: float = 1.0,
           hands=no_hands) -> list[LoadChange]:
    if times is None:
        times = np.arange(len(weights)) / RATE
    detector = LoadChangeDetector(weights.shape[1], RATE, min_step_g=50.0)
    changes: list[LoadChange] = []
    edges = np.searchsorted(times, np.arange(0, times[-1] + chunk_s, chunk_s), side="right")
    for a, b in zip(edges[:-1], list(edges[1:]), strict=True):
        changes += detector.feed(weights[a:b].astype(np.float32), times[a:b], hands)
    changes += detector.feed(weights[edges[-1]:].astype(np.float32), times[edges[-1]:], hands)
    return changes


def touch(weights: np.ndarray, plate: int, t: float, seconds: float, shake: float = 60.0,
          hold: float = 0.0, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    a, b = int((t - seconds) * RATE), int(t * RATE)
    weights[a:b, plate] += hold + rng.normal(0, shake, b - a) * np.hanning(b - a)


@pytest.mark.parametrize("chunk_s", [0.1, 1.0, 7.3, 60.0])
def test_a_step_between_settled_levels_is_one_change_of_that_size(chunk_s: float) -> None:
    w = signal(30)
    touch(w, 1, 10.0, 0.8)
    w[int(10 * RATE):, 1] -= 368.0
    changes = detect(w, chunk_s=chunk_s)
    assert [c.plate for c in changes] == [1]
    assert changes[0].delta_g == pytest.approx(-368.0, abs=1.5)
    assert 9.0 <= changes[0].t_start <= 10.0
    assert changes[0].t_close < 11.0


def test_noise_alone_gives_no_change_and_the_noise_estimate_follows_each_plate() -> None:
    rng = np.random.default_rng(3)
    w = signal(60, plates=3, noise=0.0) + rng.normal(0, 1, (3600, 3)) * np.array([0.3, 2.0, 6.0])
    detector = LoadChangeDetector(3, RATE, min_step_g=50.0)
    for s in range(60):
        rows = slice(s * 60, (s + 1) * 60)
        assert detector.feed(w[rows].astype(np.float32), np.arange(3600)[rows] / RATE,
                             no_hands) == []
    block_sd = np.array([0.3, 2.0, 6.0]) / np.sqrt(6)
    assert detector.sigma() == pytest.approx(block_sd, rel=0.25)


def test_slow_tare_drift_is_not_a_change_and_does_not_bias_a_step() -> None:
    w = signal(120)
    w[:, 0] += np.arange(len(w)) / RATE * (30.0 / 60)  # 30 g a minute
    touch(w, 0, 80.0, 0.8)
    w[int(80 * RATE):, 0] += 250.0
    changes = detect(w)
    assert len(changes) == 1
    assert changes[0].delta_g == pytest.approx(250.0, abs=2.0)


def test_lost_rows_and_nan_readings_do_not_hide_or_invent_changes() -> None:
    w = signal(40)
    touch(w, 2, 20.0, 0.8)
    w[int(20 * RATE):, 2] -= 120.0
    rng = np.random.default_rng(5)
    w[rng.random(w.shape) < 0.02] = np.nan
    w[int(25 * RATE):int(26 * RATE), :] = np.nan  # a second of lost readings on every plate
    times = np.arange(len(w)) / RATE
    keep = np.ones(len(w), dtype=bool)
    keep[int(5 * RATE):int(7.5 * RATE)] = False  # rows missing altogether
    keep[int(19.9 * RATE):int(20.3 * RATE)] = False  # ... even across the step
    changes = detect(w[keep], times[keep])
    assert [c.plate for c in changes] == [2]
    assert changes[0].delta_g == pytest.approx(-120.0, abs=1.5)


def test_a_bumped_plate_that_returns_to_its_load_gives_no_net_change() -> None:
    w = signal(20)
    n = int(1.0 * RATE)
    a = int(8 * RATE)
    w[a:a + n, 0] += 300 * np.sin(np.arange(n) * 1.1) * np.hanning(n)
    w[a:a + n, 1] += 80 * np.sin(np.arange(n) * 0.7) * np.hanning(n)
    changes = detect(w)
    assert all(abs(c.delta_g) < 3.0 for c in changes)


def test_a_hand_resting_on_the_plate_is_not_a_settled_level() -> None:
    w = signal(30)
    touch(w, 1, 15.0, 5.0, shake=3.0, hold=900.0)  # a steady hand for five seconds
    w[int(15 * RATE):, 1] -= 500.0

    def hand_on_plate_1(plates: np.ndarray, t: float) -> np.ndarray:
        return (plates == 1) & (10.0 <= t <= 15.0)

    changes = detect(w, hands=hand_on_plate_1)
    assert len(changes) == 1
    assert changes[0].delta_g == pytest.approx(-500.0, abs=1.5)


def test_a_long_contact_transient_settles_to_the_true_change() -> None:
    w = signal(30)
    touch(w, 0, 12.0, 4.0, shake=150.0)
    w[int(12 * RATE):, 0] += 180.0
    changes = detect(w)
    assert len(changes) == 1
    assert changes[0].delta_g == pytest.approx(180.0, abs=1.5)



@pytest.mark.parametrize("rate", [15.0, 25.0, 40.0, 60.0, 80.0])
def test_a_settled_level_takes_as_long_to_confirm_at_any_sample_rate(rate: float) -> None:
    # the plate's settled level is confirmed over a span in seconds, not a count of blocks:
    # at 15 or 25 Hz a block is not a tenth of a second
    rng = np.random.default_rng(3)
    times = np.arange(int(20 * rate)) / rate
    weights = 1500.0 + rng.normal(0, 0.5, (len(times), 1))
    weights[times >= 10.0] -= 368.0
    detector = LoadChangeDetector(1, rate, min_step_g=50.0)
    changes: list[LoadChange] = []
    for a in range(0, len(times), int(rate)):
        chunk = slice(a, a + int(rate))
        changes += detector.feed(weights[chunk].astype(np.float32), times[chunk], no_hands)
    (change,) = changes
    assert change.delta_g == pytest.approx(-368.0, abs=1.0)
    assert change.t_close - change.t_settle == pytest.approx(0.4, abs=0.05)


def test_a_plate_whose_first_readings_tie_still_learns_its_noise_and_settles() -> None:
    # A quantised plate can read the same block means for its first second, so its first
    # noise estimate is 0; the estimate must still grow to the real noise, or the plate never
    # counts as settled again after its load changes.
    rng = np.random.default_rng(5)
    w = np.round(signal(40, plates=1, noise=0.0) + rng.normal(0, 3.0, (2400, 1)))
    w[: int(1.5 * RATE), 0] = w[0, 0]
    touch(w, 0, 20.0, 0.8)
    w[int(20 * RATE):, 0] -= 402.0
    changes = detect(w)
    assert [c.plate for c in changes] == [0]
    assert changes[0].delta_g == pytest.approx(-402.0, abs=1.5)
    assert changes[0].t_close < 21.5
