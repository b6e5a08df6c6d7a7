"""Named simulation suites: how big the store is, how busy, and how hard its shoppers are."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Suite:
    name: str
    # Store
    aisles: int = 4
    shelves: int = 5
    gondola_length_m: float = 7.2
    skus_per_plate: float = 0.5  # assortment size relative to plate count
    same_size_bias: float = 0.0  # 0..1: prefer products whose weights collide
    # People
    concurrent_shoppers: float = 4.0
    family_rate: float = 0.1  # share of visits that are families of 2-4 on one account
    companion_rate: float = 0.0  # share of visits that are two accounts shopping together
    staff_visits_per_hour: float = 12.0
    min_staff_visits: int = 0
    browse_only_rate: float = 0.08  # shoppers who leave with nothing
    max_items: int = 8
    # Behaviour per pick
    multi_unit_rate: float = 0.08  # one reach takes 2-3 units
    put_back_own_rate: float = 0.05
    put_back_wrong_rate: float = 0.01
    handoff_rate: float = 0.0  # per companion pair
    long_hold_rate: float = 0.02
    touch_rate: float = 0.03  # reach, handle, leave the shelf unchanged
    # Sensors
    bump_per_minute: float = 0.3
    wrist_occlusion_per_s: float = 0.03
    wrist_outlier_rate: float = 0.002  # a frame where the pose model puts a wrist astray
    frame_drop_rate: float = 0.01  # a frame where a person is not reported at all
    nan_rate: float = 1e-5
    spike_rate: float = 2e-6  # single-sample ADC glitches, per reading
    gaps_per_minute: float = 0.2
    drift_g_per_min: float = 1.0
    noisy_plate_rate: float = 0.05


SUITES: dict[str, Suite] = {
    "standard": Suite(name="standard"),
    "crowded": Suite(
        name="crowded",
        aisles=3,
        concurrent_shoppers=14.0,
        family_rate=0.2,
        companion_rate=0.3,
        handoff_rate=0.3,
        put_back_own_rate=0.06,
        put_back_wrong_rate=0.03,
        staff_visits_per_hour=12.0,
        bump_per_minute=1.0,
        wrist_occlusion_per_s=0.06,
    ),
    "adversarial": Suite(
        name="adversarial",
        concurrent_shoppers=7.0,
        same_size_bias=0.7,
        family_rate=0.3,
        companion_rate=0.35,
        handoff_rate=0.8,
        staff_visits_per_hour=30.0,
        min_staff_visits=1,
        browse_only_rate=0.12,
        multi_unit_rate=0.25,
        put_back_own_rate=0.15,
        put_back_wrong_rate=0.15,
        long_hold_rate=0.15,
        touch_rate=0.1,
        bump_per_minute=4.0,
        wrist_occlusion_per_s=0.12,
        wrist_outlier_rate=0.01,
        frame_drop_rate=0.03,
        nan_rate=5e-4,
        spike_rate=3e-5,
        gaps_per_minute=2.0,
        drift_g_per_min=4.0,
        noisy_plate_rate=0.2,
    ),
    "bigstore": Suite(
        name="bigstore",
        aisles=8,
        shelves=6,
        gondola_length_m=9.6,
        skus_per_plate=0.45,
        concurrent_shoppers=20.0,
        family_rate=0.15,
        companion_rate=0.1,
        handoff_rate=0.3,
        staff_visits_per_hour=12.0,
    ),
}


def get_suite(name: str, **overrides: float) -> Suite:
    """The named suite, optionally with some parameters changed (for tests and experiments)."""
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; choose one of {', '.join(SUITES)}")
    return replace(SUITES[name], **overrides)  # type: ignore[arg-type]
