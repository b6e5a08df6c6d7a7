"""The fourth generator (retailos.sim.fourth): valid recordings, self-consistent truth,
determinism, and an F1 floor for the engine that catches a collapse, not a tuned number."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from tests.walkout import unit_truth

from retailos.sim import fourth
from retailos.walkout.recording import read_recording
from retailos.walkout.replay import replay_recording
from retailos.walkout.scoring import score

MINUTES = 3.0
SEED = 7
# Engine 343f16a on seeds 1-10 at 3 min: pooled F1 weekday 1.000 (95 units), lunch 0.984
# (126), saturday 0.948 (115); the worst single seeds 1.000, 0.900 and 0.875. Each floor sits
# about 0.1 below the worst seed.
F1_FLOOR = {"weekday": 0.9, "lunch": 0.8, "saturday": 0.75}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fourth")
    return {s: fourth.simulate(s, SEED, MINUTES, root / s) for s in fourth.SUITES}


def _gates(folder: Path) -> list[dict[str, str]]:
    with (folder / "gates.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("suite", list(fourth.SUITES))
def test_recording_is_accepted_and_truth_is_consistent(
    recordings: dict[str, Path], suite: str
) -> None:
    folder = recordings[suite]
    rec = read_recording(folder)
    assert rec.truth is not None
    truth = rec.truth
    assert rec.weights.shape == (len(rec.weight_times), len(rec.store["plates"]))
    assert rec.store["sample_rate_hz"] == fourth.SAMPLE_HZ

    # Per plate, the load changes in truth add up to the final minus the initial load.
    moved: Counter[str] = Counter()
    for action in truth["actions"]:
        if action["type"] != "handoff":
            moved[action["plate"]] += action["delta_g"]
    for plate, (initial, final) in truth["plate_loads_g"].items():
        assert moved[plate] == pytest.approx(final - initial, abs=0.05), plate

    # Receipts follow from the actions under the spec's rules 1-5, unit by unit.
    gates = _gates(folder)
    role = {int(g["track_id"]): g["role"] for g in gates if g["event"] == "enter"}
    due = unit_truth.owed(truth, gates)
    assert unit_truth.receipts(truth) == due  # every shopper account has one, staff none
    assert sum(sum(c.values()) for c in due.values()) > 0

    # Everyone leaves before the end.
    exits = [float(g["t"]) for g in gates if g["event"] == "exit"]
    assert len(exits) == len(role)
    assert max(exits) <= MINUTES * 60


def test_staff_restock_tidy_and_are_never_charged(tmp_path: Path) -> None:
    folder = fourth.simulate("saturday", 3, 3.0, tmp_path / "sat")  # a seed with staff
    truth = json.loads((folder / "truth.json").read_text())
    staff = {int(g["track_id"]): g["account_id"] for g in _gates(folder) if g["role"] == "staff"}
    by_staff = Counter(a["type"] for a in truth["actions"] if a["track_id"] in staff)
    assert by_staff["restock"] > 0 and by_staff["pick"] == by_staff["put"] > 0  # tidies
    assert all(a["track_id"] in staff for a in truth["actions"] if a["type"] == "restock")
    assert not set(staff.values()) & {r["account_id"] for r in truth["receipts"]}


def test_deterministic_per_seed(tmp_path: Path) -> None:
    a = fourth.simulate("saturday", 6, 1.0, tmp_path / "a")
    b = fourth.simulate("saturday", 6, 1.0, tmp_path / "b")
    c = fourth.simulate("saturday", 4, 1.0, tmp_path / "c")
    for name in ("store.json", "tracks.csv", "gates.csv", "truth.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert np.array_equal(np.load(a / "weights.npy"), np.load(b / "weights.npy"), equal_nan=True)
    assert (a / "weights.npy").read_bytes() == (b / "weights.npy").read_bytes()
    assert (a / "store.json").read_bytes() != (c / "store.json").read_bytes()
    assert (a / "weights.npy").read_bytes() != (c / "weights.npy").read_bytes()


@pytest.mark.parametrize("suite", list(fourth.SUITES))
def test_engine_stays_above_floor(recordings: dict[str, Path], suite: str) -> None:
    receipts = replay_recording(recordings[suite])
    truth = json.loads((recordings[suite] / "truth.json").read_text())
    result = score(receipts, truth)
    assert result.true_units > 0
    assert result.f1 >= F1_FLOOR[suite], result.as_dict()
