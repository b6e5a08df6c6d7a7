"""Simulate about two minutes of each suite, replay it through the engine and score it.

The floors sit a little below what the engine measures on these seeds, so a regression shows
up as a failure while the simulator's randomness does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retailos.sim.store import simulate
from retailos.walkout.replay import replay_recording
from retailos.walkout.scoring import read_truth, score, validate_receipts

SEED = 7
MINUTES = 2.0
F1_FLOOR = {"standard": 0.95, "crowded": 0.93, "adversarial": 0.88, "bigstore": 0.95}


@pytest.mark.parametrize("suite", sorted(F1_FLOOR))
def test_each_suite_replays_to_accurate_timely_receipts(tmp_path: Path, suite: str) -> None:
    folder = simulate(suite, SEED, MINUTES, tmp_path / suite)
    doc = replay_recording(folder)
    validate_receipts(doc)
    result = score(doc, read_truth(folder / "truth.json"))
    assert result.missing_receipts == 0
    assert result.f1 >= F1_FLOOR[suite], result.as_dict()
    assert result.latency_max_s is not None and 0.0 <= result.latency_max_s < 1.0
