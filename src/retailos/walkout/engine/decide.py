"""Explain a settled weight change: which product, how many units, and whose hand.

Every hypothesis (sku, count, person) gets a log-likelihood: the weight term (the change against
count units of the product, with the product's unit-to-unit spread and the plate's noise), a
location prior (what the dynamic inventory says is on the plate for a pick; what the person's
account holds for a put) and the attribution term (how close the person's hands were). The
maximum a-posteriori hypothesis wins; the margin to the runner-up is kept for diagnostics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_UNITS = 6  # a shopper moves at most this many units of one product in one reach
MAX_RESTOCK_UNITS = 24
LOG_UNIT_PENALTY = 1.2  # each further unit in one reach is this much (log) less likely
MODEL_SD_G = 0.5  # floor on the spread of a weight change (calibration, slow drift)
WIDE_SHARE = 0.1  # share of settled levels read off by more than the noise explains ...
WIDE_SD_G = 5.0  # ... by about this much
WIDE_SD_FRACTION = 0.01
LOG_WIDE_SHARE = math.log(WIDE_SHARE)
LOG_TIGHT_SHARE = math.log1p(-WIDE_SHARE)
# prior weight of a sku planned on the plate but none known there, or known there but not
# planned (a unit left on the wrong plate); 1: both
OFF_PLANOGRAM = 0.3
STRAY_SHARE = 0.02  # every sku neither known nor planned on the plate, together, against the rest
NO_CHANGE_LOGPRIOR = np.log(0.05)
OUTLIER_LOGDENSITY = np.log(1e-4)  # an unexplained change: flat density over ~10 kg
OUTLIER_LOGPRIOR = np.log(0.01)


@dataclass(frozen=True)
class Decision:
    kind: str  # "units" | "no-change" | "unexplained"
    sku: int
    count: int
    person: int  # index into the candidates, -1 for none
    logpost: float
    margin: float  # log-posterior gap to the best alternative explanation


class CatalogueFit:
    """weight_loglik against one catalogue, change after change: the terms that depend on the
    catalogue alone are worked out once."""

    def __init__(self, unit_weight: np.ndarray, unit_sd: np.ndarray, max_units: int) -> None:
        n = np.arange(1, max_units + 1, dtype=np.float64)[None, :]
        self.mean = n * unit_weight[:, None]
        self.unit_var = n * unit_sd[:, None] ** 2
        self.wide_extra = _wide_extra(self.mean)

    def loglik(self, delta_g: float, sd_g: float) -> np.ndarray:
        var = self.unit_var + sd_g**2 + MODEL_SD_G**2
        return _mixture_loglik(abs(delta_g) - self.mean, var, var + self.wide_extra)


def weight_loglik(
    delta_g: float, sd_g: float, unit_weight: np.ndarray, unit_sd: np.ndarray, max_units: int
) -> np.ndarray:
    """log N(|delta|; n w_s, sqrt(n sd_s^2 + sd^2)) for every sku s and n = 1..max_units: [S, N]."""
    return CatalogueFit(unit_weight, unit_sd, max_units).loglik(delta_g, sd_g)


def residual_loglik(r: np.ndarray, var: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Log density of a weight residual r: Gaussian with variance var, plus a small wide
    component for a level read a few grams off (a hand or a neighbour not quite gone), so one
    slightly-off reading does not push the decision to a more contrived explanation."""
    r, var, mean = np.broadcast_arrays(r, var, mean)
    return _mixture_loglik(r, var, var + _wide_extra(mean))


def _wide_extra(mean: np.ndarray) -> np.ndarray:
    """What the wide component adds to a residual's variance: a few grams, more on a heavy load."""
    return (WIDE_SD_G + WIDE_SD_FRACTION * np.abs(mean)) ** 2


def _mixture_loglik(r: np.ndarray, var: np.ndarray, wide_var: np.ndarray) -> np.ndarray:
    """residual_loglik, given both components' variances (all of one shape)."""
    out = -0.5 * r * r / wide_var - 0.5 * np.log(2 * np.pi * wide_var) + np.log(WIDE_SHARE)
    # the tight component only matters within a few of its sds; elsewhere it underflows
    near = np.abs(r) < 12.0 * np.sqrt(var)
    if near.any():
        tight = -0.5 * r[near] ** 2 / var[near] - 0.5 * np.log(2 * np.pi * var[near])
        out[near] = np.logaddexp(np.log1p(-WIDE_SHARE) + tight, out[near])
    return out


def count_logprior(max_units: int) -> np.ndarray:
    return -LOG_UNIT_PENALTY * np.arange(max_units, dtype=np.float64)


def null_scores(delta_g: float, sd_g: float) -> tuple[float, float]:
    """Log-posterior of "nothing changed" and of "something we cannot explain"."""
    var = sd_g**2 + MODEL_SD_G**2
    # read with the same robustness as a product's fit (residual_loglik with a zero mean): a
    # level can settle a few grams off; scalar arithmetic, as this runs for every change
    wide_var = var + WIDE_SD_G**2
    wide = LOG_WIDE_SHARE - 0.5 * delta_g**2 / wide_var - 0.5 * math.log(2 * math.pi * wide_var)
    tight = LOG_TIGHT_SHARE - 0.5 * delta_g**2 / var - 0.5 * math.log(2 * math.pi * var)
    fit = max(wide, tight) + math.log1p(math.exp(-abs(wide - tight)))
    return float(NO_CHANGE_LOGPRIOR + fit), float(OUTLIER_LOGPRIOR + OUTLIER_LOGDENSITY)


def pick_sku_prior(stock: np.ndarray, planned: np.ndarray) -> np.ndarray:
    """Log prior over skus for a unit taken from a plate.

    A shopper reaches for the product they came for, not for a unit: every product believed
    on the plate is as likely as another, however many units of it stand there. A product
    the planogram puts there but that we believe gone may still be there (OFF_PLANOGRAM);
    one believed there that the label does not show (a unit left on the wrong plate) is as
    unlikely: shoppers come to a plate for what its label shows. A
    unit of any other product can only be there if it was left there unseen: all of those
    together get STRAY_SHARE of the rest, however large the catalogue (a weight per product
    made a big store's strays outweigh what the plate is known to hold).
    """
    units = np.where(stock > 0, np.where(planned, 1.0, OFF_PLANOGRAM),
                     np.where(planned, OFF_PLANOGRAM, 0.0))
    stray = units == 0
    if stray.any():
        units = units + stray * (STRAY_SHARE * max(units.sum(), 1.0) / stray.sum())
    return np.log(units / units.sum())


def decide(
    weight: np.ndarray,
    sku_prior: np.ndarray,
    person_loglik: np.ndarray,
    null: tuple[float, float],
) -> Decision:
    """MAP over (sku, count, person) of weight[S, N] + sku_prior[S, N, K] + person_loglik[K].

    `sku_prior` may be [S, N, K] (depends on who) or [S, N, 1] (same for everyone).
    """
    k = len(person_loglik)
    if k == 0:
        person_loglik = np.zeros(1)
    total = weight[:, :, None] + sku_prior + person_loglik[None, None, :]
    flat = total.ravel()
    best = int(np.argmax(flat))
    best_score = float(flat[best])
    s, n, p = np.unravel_index(best, total.shape)
    no_change, outlier = null
    # runner-up: best other (sku, count), any person, or a null explanation
    per_sku_count = total.max(axis=2)
    per_sku_count[s, n] = -np.inf
    runner = max(float(per_sku_count.max()), no_change, outlier)
    null_best = max(no_change, outlier)
    if null_best >= best_score:
        kind = "no-change" if no_change >= outlier else "unexplained"
        second = max(best_score, min(no_change, outlier))
        return Decision(kind, -1, 0, -1, null_best, null_best - second)
    person = int(p) if k else -1
    return Decision("units", int(s), int(n) + 1, person, best_score, best_score - runner)
