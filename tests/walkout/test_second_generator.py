"""The second generator (retailos.sim.second): spec-valid recordings, self-consistent truth,
and the engine's score on them stays above a collapse floor."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retailos.sim.second import SCENARIOS, simulate
from retailos.walkout.recording import Recording, read_recording
from retailos.walkout.replay import replay_recording
from retailos.walkout.scoring import score

# Pooled F1 over SEEDS of 2-minute recordings; these floors only catch a collapse. Measured
# with the engine at commit 3b71314: on these seeds calm 1.000, busy 0.979, tricky 0.926; on
# 3-minute recordings, seeds 1-10, calm 1.000, busy 0.969, tricky 0.938.
F1_FLOOR = {"calm": 0.90, "busy": 0.85, "tricky": 0.75}
SEEDS = (11, 12)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Recording]:
    out = {}
    for scenario in SCENARIOS:
        for seed in SEEDS:
            folder = tmp_path_factory.mktemp(f"second-{scenario}-{seed}")
            simulate(scenario, seed, 2.0, folder)
            out[(scenario, seed)] = read_recording(folder)  # the engine's reader accepts it
    return out


def _all(recordings: dict[tuple[str, int], Recording]) -> list[tuple[str, Recording]]:
    return [(f"{s}-{seed}", r) for (s, seed), r in recordings.items()]


def test_recordings_follow_the_spec(recordings: dict[tuple[str, int], Recording]) -> None:
    for name, rec in _all(recordings):
        assert rec.weights.dtype == np.float32, name
        assert rec.weights.shape == (rec.weight_times.shape[0], len(rec.store["plates"])), name
        assert np.all(np.diff(rec.weight_times) > 0), name
        assert rec.store["sample_rate_hz"] != 60, name  # deliberately not our simulator's rate
        assert 150 <= len(rec.store["plates"]) <= 450, name
        steps = np.diff(np.unique(rec.tracks.t))
        fps = 1.0 / float(np.median(steps))
        assert 9.5 <= fps <= 30.5, name
        assert np.isnan(rec.weights).any(), name  # single lost readings exist
        period = 1.0 / rec.store["sample_rate_hz"]
        assert np.diff(rec.weight_times).max() > 1.5 * period, name  # and lost rows
        assert rec.truth is not None
        roles = dict(zip(rec.gates.account_id, rec.gates.role, strict=True))
        shoppers = {a for a, r in roles.items() if r == "shopper"}
        assert {r["account_id"] for r in rec.truth["receipts"]} == shoppers, name


def test_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    digests = []
    for run in ("a", "b"):
        simulate("tricky", 5, 0.5, tmp_path / run)
        digests.append(
            {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in (tmp_path / run).iterdir()}
        )
    assert digests[0] == digests[1]


def _visits(rec: Recording) -> dict[int, tuple[float, float]]:
    enter = {int(i): float(t) for i, t, e in zip(rec.gates.track_id, rec.gates.t, rec.gates.event,
                                                 strict=True) if e == "enter"}  # fmt: skip
    leave = {int(i): float(t) for i, t, e in zip(rec.gates.track_id, rec.gates.t, rec.gates.event,
                                                 strict=True) if e == "exit"}  # fmt: skip
    return {i: (enter[i], leave[i]) for i in enter}


def _expected_receipts(truth: dict[str, Any]) -> dict[str, Counter[str]]:
    """Picks minus put-backs, unit by unit; a hand-off leaves the unit on the picker's account."""
    owner: dict[int, tuple[str, str]] = {}
    for action in sorted(truth["actions"], key=lambda a: a["t"]):
        if action["type"] == "pick":
            for unit in action["units"]:
                owner[unit] = (action["account_id"], action["sku"])
        elif action["type"] == "put":
            for unit in action["units"]:
                owner.pop(unit, None)
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for account, sku in owner.values():
        out[account][sku] += 1
    return out


def test_truth_is_self_consistent(recordings: dict[tuple[str, int], Recording]) -> None:
    for name, rec in _all(recordings):
        truth = rec.truth
        assert truth is not None
        ids = [p["id"] for p in rec.store["plates"]]
        # Load changes per plate add up to the final minus the initial noiseless load.
        change = np.zeros(len(ids))
        for action in truth["actions"]:
            if action["type"] in ("pick", "put", "restock"):
                change[ids.index(action["plate"])] += action["delta_g"]
                assert (action["delta_g"] < 0) == (action["type"] == "pick"), name
        loads = truth["plates_g"]
        np.testing.assert_allclose(
            change, np.subtract(loads["final"], loads["initial"]), atol=0.05, err_msg=name
        )
        # Receipts are picks minus put-backs per account, hand-offs changing nothing.
        expected = _expected_receipts(truth)
        for receipt in truth["receipts"]:
            got = Counter({i["sku"]: i["qty"] for i in receipt["items"]})
            assert got == expected.get(receipt["account_id"], Counter()), (name, receipt)
        staff = {
            a for a, r in zip(rec.gates.account_id, rec.gates.role, strict=True) if r == "staff"
        }
        assert not staff & set(expected), name
        # Every action happens while its person is inside, every charged unit walked out.
        visits = _visits(rec)
        for action in truth["actions"]:
            enter, leave = visits[action["track_id"]]
            assert enter < action["t"] < leave, (name, action)


def test_every_load_change_is_real_and_a_wrist_is_at_the_plate(
    recordings: dict[tuple[str, int], Recording],
) -> None:
    for name, rec in _all(recordings):
        assert rec.truth is not None
        plates = {p["id"]: (i, p) for i, p in enumerate(rec.store["plates"])}
        changes = [a for a in rec.truth["actions"] if a["type"] in ("pick", "put", "restock")]
        by_plate: dict[str, list[float]] = defaultdict(list)
        for a in changes:
            by_plate[a["plate"]].append(a["t"])
        checked = near = 0
        for a in changes:
            col, plate = plates[a["plate"]]
            t = a["t"]
            if any(0 < abs(u - t) < 6 for u in by_plate[a["plate"]]) or "hold_s" in a:
                continue
            wt = rec.weight_times
            before = np.nanmedian(rec.weights[(wt > t - 4) & (wt < t - 2.5), col])
            after = np.nanmedian(rec.weights[(wt > t + 2.5) & (wt < t + 4), col])
            assert abs((after - before) - a["delta_g"]) < 12 + 0.02 * abs(a["delta_g"]), (name, a)
            checked += 1
            rows = (rec.tracks.track_id == a["track_id"]) & (np.abs(rec.tracks.t - t) < 0.4)
            front = (
                np.array(plate["center"]) + np.array([*plate["facing"], 0.0]) * plate["depth"] / 2
            )
            wrists = np.concatenate([rec.tracks.lwrist[rows], rec.tracks.rwrist[rows]])
            dist = np.linalg.norm(wrists - front, axis=1)
            near += bool(np.nanmin(dist, initial=np.inf) < 0.45)
        assert checked >= 5, name
        assert near >= 0.75 * checked, (name, near, checked)  # some reaches are occluded


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_engine_scores_above_the_collapse_floor(
    scenario: str, recordings: dict[tuple[str, int], Recording]
) -> None:
    tp = predicted = true = 0
    for seed in SEEDS:
        rec = recordings[(scenario, seed)]
        assert rec.truth is not None
        result = score(replay_recording(rec.path), rec.truth)
        tp, predicted = tp + result.true_positives, predicted + result.predicted_units
        true += result.true_units
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert f1 >= F1_FLOOR[scenario], (scenario, f1)
