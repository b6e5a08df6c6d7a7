"""Shelf-plate signals to load-change events: block averaging, online noise, settled levels.

Raw readings carry an unknown, slowly drifting tare, so the detector never looks at absolute
values: it follows each plate's settled level, notices when the plate leaves it, waits until the
reading settles again (and no hand is on the plate) and reports the difference between the two
settled levels. Drift and the hand-contact transient both cancel in that difference.

The hot path works on block means (about 10 a second): one pass over the raw rows per chunk,
then vectorised tests over all plates at once, and a short per-block loop over the few plates
that are actually disturbed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOCK_RATE_HZ = 10.0
SETTLE_BLOCKS = 5  # a settled level is this many consecutive block means that agree
START_SIGMAS = 6.0  # a block this many noise sd away from the settled level starts an event
SETTLE_SIGMAS = 5.0  # block means of a settled level lie within this many sd of each other
DRIFT_ALPHA = 0.2  # per-block weight of the settled-level tracker on quiet plates
MAX_DRIFT_G_PER_S = 1.0  # tare drift is slow: faster creep is a load (a hand), not drift
# An innovation is clipped so that one block moves the tracked level by at most the drift limit.
DRIFT_CLIP_G = MAX_DRIFT_G_PER_S / BLOCK_RATE_HZ / DRIFT_ALPHA
NOISE_BETA = 0.01  # per-block weight of the online noise estimate
NOISE_START_DIFFS = 9  # successive differences behind a plate's first noise estimate
DEFAULT_SIGMA_G = 1.0  # block-mean noise sd used before a plate has data
MIN_SIGMA_G = 0.05
MAX_HOLD_S = 60.0  # a plate disturbed this long is re-based without an event
NEIGHBOUR_M = 1.5  # plates this close on one shelf feel each other's hands
HAND_TIMEOUT_S = 12.0
HISTORY_BLOCKS = 600  # a minute of block means kept for re-reading events

# sd of (new level - old level) in block-mean sds: a mean of SETTLE_BLOCKS blocks against an
# exponential average of the earlier ones
LEVEL_SD_FACTOR = float(np.sqrt(1.0 / SETTLE_BLOCKS + DRIFT_ALPHA / (2 - DRIFT_ALPHA)))

HandsNear = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class LoadChange:
    """One plate moved from one settled level to another."""

    plate: int
    t_start: float  # last quiet block before the disturbance
    t_settle: float  # first block of the new settled level (hands have left)
    t_close: float  # when the new level was confirmed: the engine knows the event from here
    delta_g: float
    sd_g: float  # standard deviation of delta_g from the plate's noise
    start_level_g: float = 0.0  # the settled (raw) reading before the change


@dataclass(frozen=True)
class OpenDisturbance:
    plate: int
    t_start: float


class LoadChangeDetector:
    """Streaming detector over all plates of a store; feed it rows in time order."""

    def __init__(
        self,
        n_plates: int,
        sample_rate_hz: float,
        min_step_g: float,
        shelf_key: np.ndarray | None = None,
        shelf_pos: np.ndarray | None = None,
    ) -> None:
        """`shelf_key` and `shelf_pos` (metres along the shelf) say which plates share a shelf.

        A hand on one plate presses on its neighbours through the shelf, so a plate does not
        count as settled while a neighbour within NEIGHBOUR_M is still moving.
        """
        self.n_plates = n_plates
        self.shelf_key = np.arange(n_plates) if shelf_key is None else shelf_key
        self.shelf_pos = np.zeros(n_plates) if shelf_pos is None else shelf_pos
        self.block = max(1, int(round(sample_rate_hz / BLOCK_RATE_HZ)))
        # The per-block constants above are for blocks of 1 / BLOCK_RATE_HZ; a rate that is not
        # a multiple of it gives other blocks, so spans and rates are kept in seconds.
        block_rate = sample_rate_hz / self.block
        scale = BLOCK_RATE_HZ / block_rate  # one block, in blocks of the reference length
        self.settle_blocks = max(2, int(round(SETTLE_BLOCKS / scale)))
        self.drift_alpha = min(1.0, DRIFT_ALPHA * scale)
        self.drift_clip_g = MAX_DRIFT_G_PER_S / block_rate / self.drift_alpha
        self.noise_beta = min(1.0, NOISE_BETA * scale)
        self.history_blocks = max(1, int(round(HISTORY_BLOCKS / scale)))
        self.level_sd_factor = float(np.sqrt(
            1.0 / self.settle_blocks + self.drift_alpha / (2 - self.drift_alpha)))
        self.min_step_g = min_step_g
        self._carry = np.empty((0, n_plates), dtype=np.float32)
        self._carry_t = np.empty(0, dtype=np.float64)
        self.level = np.full(n_plates, np.nan)  # settled level (tracks drift while quiet)
        self.var = np.full(n_plates, np.nan)  # block-mean noise variance
        self._last_mean = np.full(n_plates, np.nan)
        self._last_t = -np.inf
        self.disturbed = np.zeros(n_plates, dtype=bool)
        self.start_t = np.zeros(n_plates)
        self.start_level = np.zeros(n_plates)
        self._ring = np.full((n_plates, self.settle_blocks), np.nan)
        self._ring_t = np.zeros((n_plates, self.settle_blocks))
        self._ring_n = np.zeros(n_plates, dtype=np.int64)
        # Recent block means of every plate, so an event can be re-read between hand contacts.
        self._hist = np.full((self.history_blocks, n_plates), np.nan, dtype=np.float32)
        self._hist_t = np.full(self.history_blocks, np.nan)
        self._hist_n = 0
        self._start_buf = np.zeros((n_plates, NOISE_START_DIFFS))
        self._start_n = np.zeros(n_plates, dtype=np.int64)

    # ---- public -------------------------------------------------------------------------

    def block_history(self, plate: int, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Block times and means of one plate within [t0, t1] (NaN where readings were lost)."""
        ok = (self._hist_t >= t0) & (self._hist_t <= t1)
        order = np.argsort(self._hist_t[ok])
        return self._hist_t[ok][order], self._hist[ok, plate][order].astype(np.float64)

    def reached(self, plate: int, t0: float, t1: float, level: float) -> float:
        """When, within [t0, t1], the plate's level came to `level` for good: the first block
        from which every later one lies as close to it as a settled level's blocks lie to each
        other (t1 if none does). Hands resting on the plate without pressing it can keep it
        from counting as settled for longer, but its load stopped changing here."""
        t, x = self.block_history(plate, t0, t1)
        ok = ~np.isnan(x)
        t, x = t[ok], x[ok]
        thr = float(_settle_tolerance(self.sigma()[plate]))
        away = np.flatnonzero(np.abs(x - level) > thr)
        if len(away) == 0:
            return float(t[0]) if len(t) else t1
        return float(t[away[-1] + 1]) if away[-1] + 1 < len(t) else t1

    def _remember(self, means: np.ndarray, block_t: np.ndarray) -> None:
        n = min(len(block_t), self.history_blocks)
        slots = (self._hist_n + np.arange(n)) % self.history_blocks
        self._hist[slots] = means[-n:]
        self._hist_t[slots] = block_t[-n:]
        self._hist_n += n

    def flush(self) -> list[LoadChange]:
        """End of stream: close every disturbed plate at its latest readings."""
        changes = []
        for p in np.flatnonzero(self.disturbed & (self._ring_n > 0)).tolist():
            n = min(int(self._ring_n[p]), self.settle_blocks)
            sd = float(self.sigma()[p]) * self.level_sd_factor * np.sqrt(self.settle_blocks / n)
            changes.append(LoadChange(
                plate=p, t_start=float(self.start_t[p]), t_settle=float(self._ring_t[p].max()),
                t_close=self._last_t, delta_g=self.change_so_far(p),
                sd_g=sd, start_level_g=float(self.start_level[p]),
            ))
            self.disturbed[p] = False
        return changes

    def change_so_far(self, plate: int) -> float:
        """How far a disturbed plate's latest blocks read from its level before the disturbance
        (NaN before any block): a plate only shaken by its neighbour reads about where it
        started."""
        n = min(int(self._ring_n[plate]), self.settle_blocks)
        if n == 0:
            return float("nan")
        values = self._ring[plate, :n] if self._ring_n[plate] <= self.settle_blocks else (
            self._ring[plate])
        return float(values.mean() - self.start_level[plate])

    def open_disturbances(self) -> list[OpenDisturbance]:
        return [
            OpenDisturbance(int(p), float(self.start_t[p])) for p in np.flatnonzero(self.disturbed)
        ]

    def sigma(self) -> np.ndarray:
        """Current block-mean noise sd per plate (grams)."""
        sd = np.sqrt(self.var)
        return np.where(np.isnan(sd), DEFAULT_SIGMA_G, np.maximum(sd, MIN_SIGMA_G))

    def feed(
        self, weights: np.ndarray, times: np.ndarray, hands_near: HandsNear
    ) -> list[LoadChange]:
        """Take raw rows [n, P] (NaN = lost) and their times; return load changes closed in them.

        `hands_near(plates, t)` says, per plate, whether a hand may be touching it at time t; a
        plate is not considered settled while it is.
        """
        means, block_t = self._block_means(weights, times)
        if len(block_t) == 0:
            return []
        self._remember(means, block_t)
        diffs = self._successive_differences(means)
        self._start_noise(diffs)
        sigma = self.sigma()
        start_thr = np.maximum(START_SIGMAS * sigma, 0.5 * self.min_step_g)
        unknown = np.isnan(self.level)
        if unknown.any():
            self.level[unknown] = _first_valid(means[:, unknown])
        with np.errstate(invalid="ignore"):
            away = np.abs(means - self.level) > start_thr
        active = self.disturbed | away.any(axis=0)
        self._update_noise(diffs, ~active)
        quiet = np.flatnonzero(~active)
        self._track_drift(means[:, quiet], quiet)
        act = np.flatnonzero(active)
        changes: list[LoadChange] = []
        if len(act):
            changes = self._step_active(
                means[:, act], block_t, act, sigma[act], start_thr[act], hands_near
            )
        self._last_t = float(block_t[-1])
        return changes

    # ---- internals ----------------------------------------------------------------------

    def _block_means(self, weights: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means of consecutive groups of `block` rows; leftover rows wait for the next chunk.

        Only the few rows that straddle a chunk boundary are copied; the chunk itself is
        reduced in place.
        """
        b = self.block
        first: list[tuple[np.ndarray, np.ndarray]] = []
        if len(self._carry):
            need = b - len(self._carry)
            head = np.concatenate([self._carry, weights[:need]])
            head_t = np.concatenate([self._carry_t, times[:need]])
            if len(head_t) < b:
                self._carry, self._carry_t = head, head_t
                return np.empty((0, self.n_plates)), np.empty(0)
            first.append(self._reduce(head, head_t))
            weights, times = weights[need:], times[need:]
        n_blocks = len(times) // b
        used = n_blocks * b
        self._carry = weights[used:].copy()
        self._carry_t = times[used:].copy()
        body = self._reduce(weights[:used], times[:used])
        if not first:
            return body
        return np.concatenate([first[0][0], body[0]]), np.concatenate([first[0][1], body[1]])

    def _reduce(self, rows: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Block means of rows whose count is a multiple of the block; NaN readings skipped."""
        b = self.block
        n_blocks = len(times) // b
        if n_blocks == 0:
            return np.empty((0, self.n_plates)), np.empty(0)
        body = rows.reshape(n_blocks, b, self.n_plates)
        means = body.sum(axis=1).astype(np.float64) if b > 1 else body[:, 0].astype(np.float64)
        means /= b
        lost = np.isnan(means)
        if lost.any():
            cols = np.flatnonzero(lost.any(axis=0))
            sub = body[:, :, cols]
            ok = ~np.isnan(sub)
            count = ok.sum(axis=1)
            total = np.where(ok, sub, 0.0).sum(axis=1, dtype=np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                means[:, cols] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        return means, times[b - 1 :: b]

    def _successive_differences(self, means: np.ndarray) -> np.ndarray:
        series = np.concatenate([self._last_mean[None, :], means])
        diffs = np.diff(series, axis=0)
        for row in means:  # each plate's latest valid mean
            self._last_mean = np.where(np.isnan(row), self._last_mean, row)
        return diffs

    def _start_noise(self, diffs: np.ndarray) -> None:
        """First noise estimate of a plate: robust spread of its first NOISE_START_DIFFS
        successive differences, gathered over as many chunks as that takes."""
        fresh = np.flatnonzero(np.isnan(self.var))
        if len(fresh) == 0:
            return
        for row in diffs[:, fresh]:
            ok = ~np.isnan(row)
            slot = self._start_n[fresh[ok]]
            room = slot < NOISE_START_DIFFS
            self._start_buf[fresh[ok][room], slot[room]] = np.abs(row[ok][room])
            self._start_n[fresh[ok][room]] += 1
        ready = fresh[self._start_n[fresh] >= NOISE_START_DIFFS]
        if len(ready):
            med = np.median(self._start_buf[ready], axis=1)
            self.var[ready] = (1.4826 * med) ** 2 / 2

    def _update_noise(self, diffs: np.ndarray, quiet: np.ndarray) -> None:
        """Online block-mean noise from successive differences on plates that stayed quiet
        (a mask): worked out for every plate, as most are quiet, and kept for those."""
        var = self.var
        keep = quiet & ~np.isnan(var)
        if not keep.any():
            return
        # clipped relative to at least the floor: an estimate of 0 (a quantised plate whose
        # first block means tied) must still be able to grow
        sq = np.minimum(diffs * diffs, 25.0 * np.maximum(var, MIN_SIGMA_G**2))
        ok = ~np.isnan(sq)
        n_ok = np.count_nonzero(ok, axis=0)
        mean_sq = np.where(ok, sq, 0.0).sum(axis=0) / np.maximum(n_ok, 1)
        weight = -np.expm1(n_ok * np.log1p(-self.noise_beta))
        np.copyto(var, (1 - weight) * var + weight * mean_sq / 2, where=keep)

    def _track_drift(self, means: np.ndarray, plates: np.ndarray) -> None:
        """Exponential moving average of each quiet plate's block means, in closed form."""
        if len(plates) == 0:
            return
        n = means.shape[0]
        level = self.level[plates]
        # the sequential tracker may have moved by up to alpha * clip per block since the
        # chunk began, so later blocks may differ more from the level at its start
        bound = (self.drift_clip_g * (1.0 + self.drift_alpha * np.arange(n)))[:, None]
        step = np.where(np.isnan(means), 0.0, means - level)
        filled = level + np.minimum(np.maximum(step, -bound), bound)
        decay = (1.0 - self.drift_alpha) ** np.arange(n - 1, -1, -1)
        alpha = self.drift_alpha
        self.level[plates] = (1.0 - alpha) ** n * level + alpha * (decay @ filled)

    def _shaken_by(
        self, plates: np.ndarray, steady: np.ndarray, unsteady: np.ndarray
    ) -> np.ndarray:
        """Which steady plates have a neighbour on their shelf that is still moving."""
        moving = plates[unsteady]
        if len(moving) == 0:
            return np.zeros(len(steady), dtype=bool)
        calm = plates[steady]
        same = self.shelf_key[calm][:, None] == self.shelf_key[moving][None, :]
        gap = np.abs(self.shelf_pos[calm][:, None] - self.shelf_pos[moving][None, :])
        return (same & (gap <= NEIGHBOUR_M)).any(axis=1)

    def _step_active(
        self,
        means: np.ndarray,
        block_t: np.ndarray,
        plates: np.ndarray,
        sigma: np.ndarray,
        start_thr: np.ndarray,
        hands_near: HandsNear,
    ) -> list[LoadChange]:
        """Per-block state machine, vectorised over the disturbed (or disturbing) plates."""
        settle_thr = _settle_tolerance(sigma)
        level = self.level[plates]
        disturbed = self.disturbed[plates]
        start_t = self.start_t[plates]
        start_level = self.start_level[plates]
        ring = self._ring[plates]
        ring_t = self._ring_t[plates]
        ring_n = self._ring_n[plates]
        prev_t = self._last_t
        changes: list[LoadChange] = []
        slot = np.arange(len(plates))
        valid_all = ~np.isnan(means)
        for b in range(len(block_t)):
            t = float(block_t[b])
            x = means[b]
            valid = valid_all[b]
            begin = valid & ~disturbed & (np.abs(x - level) > start_thr)
            if begin.any():
                disturbed |= begin
                start_t[begin] = prev_t if np.isfinite(prev_t) else t
                start_level[begin] = level[begin]
                ring_n[begin] = 0
            calm = valid & ~disturbed
            if calm.any():
                clip = self.drift_clip_g
                step = np.minimum(np.maximum(x[calm] - level[calm], -clip), clip)
                level[calm] += self.drift_alpha * step
            push = valid & disturbed
            if push.any():
                pos = ring_n[push] % self.settle_blocks
                ring[slot[push], pos] = x[push]
                ring_t[slot[push], pos] = t
                ring_n[push] += 1
                full = push & (ring_n >= self.settle_blocks)
                if full.any():
                    idx = np.flatnonzero(full)
                    held = ring[idx]
                    spread = held.max(axis=1) - held.min(axis=1)
                    steady = idx[spread <= settle_thr[idx]]
                    if len(steady):
                        long_hold = (t - start_t[steady]) > HAND_TIMEOUT_S
                        touched = hands_near(plates[steady], t) & ~long_hold
                        steady = steady[~touched]
                    if len(steady):
                        unsteady = disturbed.copy()
                        unsteady[steady] = False
                        shaken = self._shaken_by(plates, steady, unsteady)
                        steady = steady[~shaken | ((t - start_t[steady]) > HAND_TIMEOUT_S)]
                    for i in steady.tolist():
                        new_level = float(ring[i].mean())
                        delta = new_level - start_level[i]
                        sd = float(sigma[i]) * self.level_sd_factor
                        changes.append(
                            LoadChange(
                                plate=int(plates[i]),
                                t_start=float(start_t[i]),
                                t_settle=float(ring_t[i].min()),
                                t_close=t,
                                delta_g=float(delta),
                                sd_g=float(sd),
                                start_level_g=float(start_level[i]),
                            )
                        )
                        level[i] = new_level
                        disturbed[i] = False
                stale = disturbed & ((t - start_t) > MAX_HOLD_S) & (ring_n >= 1)
                if stale.any():
                    last = (ring_n[stale] - 1) % self.settle_blocks
                    level[stale] = ring[slot[stale], last]
                    disturbed[stale] = False
            prev_t = t
        self.level[plates] = level
        self.disturbed[plates] = disturbed
        self.start_t[plates] = start_t
        self.start_level[plates] = start_level
        self._ring[plates] = ring
        self._ring_t[plates] = ring_t
        self._ring_n[plates] = ring_n
        return changes


def _first_valid(x: np.ndarray) -> np.ndarray:
    """First non-NaN value down each column (NaN if none)."""
    ok = ~np.isnan(x)
    idx = np.argmax(ok, axis=0)
    out = x[idx, np.arange(x.shape[1])]
    return np.where(ok.any(axis=0), out, np.nan)


def _settle_tolerance(sigma: np.ndarray) -> np.ndarray:
    """How far apart a settled level's block means may lie, for a plate of noise sd sigma."""
    return SETTLE_SIGMAS * sigma + 0.1
