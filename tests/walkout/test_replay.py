"""Offline replay of a recording folder through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.walkout.engine_scenes import Scene, make_store

from retailos.walkout.recording import write_recording
from retailos.walkout.replay import replay_recording
from retailos.walkout.scoring import validate_receipts


def write_scene(folder: Path) -> Path:
    scene = Scene(make_store([("cola", 368.0, 3.0), ("chips", 160.0, 2.0)],
                             {(1, 0): {"cola": 10}, (1, 1): {"chips": 6}}), 20.0)
    scene.person(1, "a1", 1.0, 12.0, x=0.2)
    scene.person(2, "a2", 2.0, 15.0, x=0.6)
    scene.reach(1, 1, 0, 4.0, 5.2)
    scene.step(1, 0, 5.0, -368.0)
    rec = scene.recording(nan_rate=1e-3)
    write_recording(folder, rec.store, rec.weights, rec.weight_times, rec.tracks, rec.gates)
    return folder


@pytest.mark.parametrize("chunk_seconds", [0.25, 1.0, 60.0])
def test_replay_returns_valid_receipts_for_every_shopper(tmp_path: Path,
                                                         chunk_seconds: float) -> None:
    folder = write_scene(tmp_path / "rec")
    calls: list[tuple[float, float]] = []
    doc = replay_recording(folder, progress=lambda done, total: calls.append((done, total)),
                           chunk_seconds=chunk_seconds)
    validate_receipts(doc)
    assert doc["format"] == "retailos.receipts/1"
    by_account = {r["account_id"]: r for r in doc["receipts"]}
    assert set(by_account) == {"a1", "a2"}
    assert by_account["a1"]["items"] == [{"sku": "cola", "qty": 1}]
    assert by_account["a2"]["items"] == []
    assert calls and calls[-1][0] == pytest.approx(calls[-1][1])
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("chunk_seconds", [0.5, 2.0])
def test_a_receipt_is_stamped_no_earlier_than_the_data_the_engine_had_seen(
    tmp_path: Path, chunk_seconds: float
) -> None:
    from retailos.walkout.engine import Engine
    from retailos.walkout.recording import iter_chunks, read_recording

    recording = read_recording(write_scene(tmp_path / "rec"))
    engine = Engine(recording.store)
    stamped = []
    for chunk in iter_chunks(recording, chunk_seconds):
        for receipt in engine.feed(chunk):
            stamped.append(receipt)
            assert receipt["emitted_t"] >= chunk.t_end >= receipt["exit_t"]
            assert receipt["emitted_t"] - receipt["exit_t"] <= chunk_seconds + 1.0
    assert {r["account_id"] for r in stamped} == {"a1", "a2"}
