"""Reading, validating, writing and chunking store recordings (store-recording.md v1)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from retailos.walkout.recording import (
    FORMAT,
    Gates,
    RecordingError,
    Tracks,
    iter_chunks,
    read_recording,
    write_recording,
)


def small_store() -> dict:
    return {
        "format": FORMAT,
        "store_id": "test-store",
        "sample_rate_hz": 60,
        "currency": "USD",
        "plates": [
            {"id": f"g1-s1-p{i}", "gondola": 1, "shelf": 1, "index": i,
             "center": [1.0 + 0.4 * i, 2.0, 1.0], "width": 0.4, "depth": 0.45,
             "facing": [0.0, -1.0]}
            for i in range(3)
        ],
        "products": [
            {"sku": "100", "name": "Cola 12 oz can", "weight_g": 368.0, "weight_sd_g": 3.0,
             "price_minor": 129},
            {"sku": "200", "name": "Beans 15 oz can", "weight_g": 470.0, "weight_sd_g": 4.0,
             "price_minor": 99},
        ],
        "planogram": [{"sku": "100", "plates": ["g1-s1-p0", "g1-s1-p1"]},
                      {"sku": "200", "plates": ["g1-s1-p2"]}],
        "initial_stock": [{"plate": "g1-s1-p0", "sku": "100", "count": 5},
                          {"plate": "g1-s1-p2", "sku": "200", "count": 4}],
        "gates": [{"id": "gate-1", "center": [0.5, 0.2, 0.0]}],
        "extra_key_from_the_future": True,
    }  # fmt: skip


def small_tracks() -> Tracks:
    t = np.array([1.1, 1.2, 2.5, 3.9])
    head = np.tile(np.array([[1.0, 1.5, 1.7]], np.float32), (4, 1))
    wrist = head - np.float32(0.5)
    wrist[2] = np.nan
    return Tracks(
        t=t,
        track_id=np.array([7, 7, 7, 7]),
        conf=np.array([0.9, 0.9, 0.8, 0.95], np.float32),
        head=head,
        lwrist=wrist.copy(),
        rwrist=head - np.float32(0.4),
    )


def small_gates() -> Gates:
    obj = np.array
    return Gates(
        t=np.array([1.0, 4.0]),
        event=obj(["enter", "exit"], dtype=object),
        track_id=np.array([7, 7]),
        account_id=obj(["acct-1", "acct-1"], dtype=object),
        role=obj(["shopper", "shopper"], dtype=object),
        gate_id=obj(["gate-1", "gate-1"], dtype=object),
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    times = np.arange(0, 300) / 60.0
    weights = np.full((300, 3), 1000.0, np.float32)
    weights[100, 1] = np.nan
    folder = tmp_path / "rec"
    truth = {"receipts": [{"account_id": "acct-1", "items": [{"sku": "100", "qty": 1}]}],
             "actions": [{"t": 2.0, "track_id": 7, "account_id": "acct-1", "type": "pick",
                          "sku": "100", "qty": 1, "plate": "g1-s1-p0"}]}  # fmt: skip
    write_recording(folder, small_store(), weights, times, small_tracks(), small_gates(), truth)
    (folder / "notes.txt").write_text("unknown files are allowed\n")
    return folder


def test_a_good_folder_reads_with_its_shapes_and_missing_wrists_as_nan(good: Path) -> None:
    rec = read_recording(good)
    assert rec.weights.shape == (300, 3)
    assert rec.weights.dtype == np.float32
    assert rec.weight_times.dtype == np.float64
    assert len(rec.tracks) == 4
    assert np.isnan(rec.tracks.lwrist[2]).all()
    assert not np.isnan(rec.tracks.rwrist).any()
    assert rec.gates.event.tolist() == ["enter", "exit"]
    assert rec.truth is not None and rec.truth["receipts"][0]["account_id"] == "acct-1"


def test_written_recording_reads_back_the_same_values(good: Path) -> None:
    rec = read_recording(good)
    tracks = small_tracks()
    np.testing.assert_allclose(rec.tracks.t, tracks.t, atol=1e-4)
    np.testing.assert_allclose(rec.tracks.head, tracks.head, atol=1e-4)
    np.testing.assert_allclose(rec.tracks.lwrist, tracks.lwrist, atol=1e-4)
    assert rec.tracks.track_id.tolist() == [7, 7, 7, 7]
    assert rec.gates.account_id.tolist() == ["acct-1", "acct-1"]
    assert rec.store["plates"][2]["id"] == "g1-s1-p2"
    assert np.isnan(rec.weights[100, 1])


def test_chunks_cover_every_row_once_in_time_order(good: Path) -> None:
    rec = read_recording(good)
    chunks = list(iter_chunks(rec, seconds=1.0))
    assert [c.t_start for c in chunks] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sum(len(c.weight_times) for c in chunks) == 300
    assert sum(len(c.tracks) for c in chunks) == 4
    assert [len(c.gates) for c in chunks] == [1, 0, 0, 1, 0]
    for c in chunks[1:]:
        assert np.all(c.weight_times > c.t_start) and np.all(c.weight_times <= c.t_end)
    assert np.shares_memory(chunks[1].weight_times, rec.weight_times)


def _edit_json(name: str, edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        doc = json.loads((folder / name).read_text())
        edit(doc)
        (folder / name).write_text(json.dumps(doc))

    return apply


def _rewrite_csv(name: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        text = (folder / name).read_text()
        assert old in text
        (folder / name).write_text(text.replace(old, new, 1))

    return apply


def _save(name: str, make: Callable[[], np.ndarray]) -> Callable[[Path], None]:
    return lambda folder: np.save(folder / name, make())


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing store": (lambda f: (f / "store.json").unlink(), "store.json"),
    "missing weights": (lambda f: (f / "weights.npy").unlink(), "weights.npy"),
    "missing tracks": (lambda f: (f / "tracks.csv").unlink(), "tracks.csv"),
    "missing gates": (lambda f: (f / "gates.csv").unlink(), "gates.csv"),
    "store not json": (lambda f: (f / "store.json").write_text("{"), "store.json"),
    "wrong format": (_edit_json("store.json", lambda d: d.update(format="x/2")), "store.json"),
    "no plates field": (_edit_json("store.json", lambda d: d.pop("plates")), "store.json"),
    "plate lacks center": (
        _edit_json("store.json", lambda d: d["plates"][0].pop("center")), "store.json"),
    "product weight text": (
        _edit_json("store.json", lambda d: d["products"][0].update(weight_g="368")),
        "store.json"),
    "planogram unknown plate": (
        _edit_json("store.json", lambda d: d["planogram"][0]["plates"].append("nope")),
        "store.json"),
    "planogram unknown sku": (
        _edit_json("store.json", lambda d: d["planogram"][0].update(sku="999")), "store.json"),
    "stock unknown plate": (
        _edit_json("store.json", lambda d: d["initial_stock"][0].update(plate="nope")),
        "store.json"),
    "stock unknown sku": (
        _edit_json("store.json", lambda d: d["initial_stock"][0].update(sku="999")),
        "store.json"),
    "weights wrong plate count": (
        _save("weights.npy", lambda: np.zeros((300, 2), np.float32)), "weights.npy"),
    "weights float64": (
        _save("weights.npy", lambda: np.zeros((300, 3), np.float64)), "weights.npy"),
    "times wrong length": (
        _save("weight_times.npy", lambda: np.arange(299) / 60.0), "weight_times.npy"),
    "times float32": (
        _save("weight_times.npy", lambda: (np.arange(300) / 60.0).astype(np.float32)),
        "weight_times.npy"),
    "times not increasing": (
        _save("weight_times.npy", lambda: np.r_[np.arange(150), np.arange(150)] / 60.0),
        "weight_times.npy"),
    "tracks bad header": (_rewrite_csv("tracks.csv", "head_x", "headx"), "tracks.csv"),
    "tracks unparsable": (_rewrite_csv("tracks.csv", "\n1.1,", "\nabc,"), "tracks.csv"),
    "tracks unknown track": (_rewrite_csv("tracks.csv", ",7,", ",8,"), "tracks.csv"),
    "tracks missing head": (_rewrite_csv("tracks.csv", ",1,1.5,1.7,", ",,,,"),
                            "tracks.csv"),
    "tracks row after exit": (_rewrite_csv("tracks.csv", "3.9,", "9.9,"), "tracks.csv"),
    "gates bad header": (_rewrite_csv("gates.csv", "role", "kind"), "gates.csv"),
    "gates unknown event": (_rewrite_csv("gates.csv", "enter", "arrive"), "gates.csv"),
    "gates unknown gate": (_rewrite_csv("gates.csv", "gate-1", "gate-9"), "gates.csv"),
    "gates unknown role": (_rewrite_csv("gates.csv", "shopper", "thief"), "gates.csv"),
    "gates exit before enter": (_rewrite_csv("gates.csv", "4.0000,exit", "0.5000,exit"),
                                "gates.csv"),
    "truth second receipt": (
        _edit_json("truth.json", lambda d: d["receipts"].append(dict(d["receipts"][0]))),
        "truth.json"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_folder_is_rejected_naming_the_file(good: Path, case: str) -> None:
    breaks, file = BROKEN[case]
    breaks(good)
    with pytest.raises(RecordingError) as info:
        read_recording(good)
    assert info.value.file == file
    assert str(info.value).startswith(file)


def test_a_path_that_is_not_a_folder_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="not a folder"):
        read_recording(tmp_path / "absent")


def test_a_folder_without_truth_reads_with_truth_none(good: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(good, copy)
    (copy / "truth.json").unlink()
    assert read_recording(copy).truth is None


def test_exit_rows_may_leave_account_and_role_empty(good: Path) -> None:
    text = (good / "gates.csv").read_text().replace("exit,7,acct-1,shopper,", "exit,7,,,")
    (good / "gates.csv").write_text(text)
    rec = read_recording(good)
    assert rec.gates.account_id.tolist() == ["acct-1", "acct-1"]
    assert rec.gates.role.tolist() == ["shopper", "shopper"]


def test_track_rows_out_of_order_are_sorted_by_time(good: Path) -> None:
    lines = (good / "tracks.csv").read_text().splitlines()
    (good / "tracks.csv").write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    rec = read_recording(good)
    assert np.all(np.diff(rec.tracks.t) >= 0)
    assert np.isnan(rec.tracks.lwrist[2]).all()  # the row at t=2.5 kept its missing wrist


def test_chunks_of_a_fraction_of_a_second_still_cover_everything(good: Path) -> None:
    rec = read_recording(good)
    chunks = list(iter_chunks(rec, seconds=0.25))
    assert sum(len(c.weight_times) for c in chunks) == 300
    assert all(
        b.t_start == pytest.approx(a.t_end) for a, b in zip(chunks, chunks[1:], strict=False)
    )
