"""Store recordings (shared/specs/store-recording.md, version 1): read, validate, write, chunk.

This module fixes the in-memory shapes that the engine, the simulator and scoring share.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

FORMAT = "retailos.store-recording/1"

STORE_FILE = "store.json"
WEIGHTS_FILE = "weights.npy"
WEIGHT_TIMES_FILE = "weight_times.npy"
TRACKS_FILE = "tracks.csv"
GATES_FILE = "gates.csv"
TRUTH_FILE = "truth.json"

TRACKS_COLUMNS = (
    "t", "track_id", "conf",
    "head_x", "head_y", "head_z",
    "lwrist_x", "lwrist_y", "lwrist_z",
    "rwrist_x", "rwrist_y", "rwrist_z",
)  # fmt: skip
GATES_COLUMNS = ("t", "event", "track_id", "account_id", "role", "gate_id")
GATE_EVENTS = ("enter", "exit")
ROLES = ("shopper", "staff")


class RecordingError(ValueError):
    """A recording folder breaks the spec; the message names the file and the fault."""

    def __init__(self, file: str, fault: str) -> None:
        super().__init__(f"{file}: {fault}")
        self.file = file
        self.fault = fault


@dataclass(frozen=True)
class Tracks:
    """Body tracks, one row per track per perception frame, sorted by t.

    Wrist coordinates are NaN where the wrist was not seen.
    """

    t: np.ndarray  # float64 [N]
    track_id: np.ndarray  # int64 [N]
    conf: np.ndarray  # float32 [N]
    head: np.ndarray  # float32 [N, 3]
    lwrist: np.ndarray  # float32 [N, 3]
    rwrist: np.ndarray  # float32 [N, 3]

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def rows(self, start: int, stop: int) -> Tracks:
        """Rows start..stop as views (no copy)."""
        return Tracks(
            t=self.t[start:stop],
            track_id=self.track_id[start:stop],
            conf=self.conf[start:stop],
            head=self.head[start:stop],
            lwrist=self.lwrist[start:stop],
            rwrist=self.rwrist[start:stop],
        )


@dataclass(frozen=True)
class Gates:
    """Gate events sorted by t. String columns are numpy object arrays of str."""

    t: np.ndarray  # float64 [G]
    event: np.ndarray  # "enter" | "exit"
    track_id: np.ndarray  # int64 [G]
    account_id: np.ndarray  # str
    role: np.ndarray  # "shopper" | "staff"
    gate_id: np.ndarray  # str

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def rows(self, start: int, stop: int) -> Gates:
        """Rows start..stop as views (no copy)."""
        return Gates(
            t=self.t[start:stop],
            event=self.event[start:stop],
            track_id=self.track_id[start:stop],
            account_id=self.account_id[start:stop],
            role=self.role[start:stop],
            gate_id=self.gate_id[start:stop],
        )


@dataclass(frozen=True)
class Chunk:
    """A stretch of stream time (t_start, t_end]: everything observed in it, in time order."""

    t_start: float
    t_end: float
    weights: np.ndarray  # float32 [n, P]
    weight_times: np.ndarray  # float64 [n]
    tracks: Tracks
    gates: Gates


@dataclass(frozen=True)
class Recording:
    path: Path
    store: dict[str, Any]  # store.json as parsed and validated
    weights: np.ndarray  # float32 [T, P], may be memory-mapped
    weight_times: np.ndarray  # float64 [T]
    tracks: Tracks
    gates: Gates
    truth: dict[str, Any] | None


# --------------------------------------------------------------------------- reading


def read_recording(path: str | Path) -> Recording:
    """Read and validate a recording folder; raise RecordingError naming the file and fault."""
    folder = Path(path)
    if not folder.is_dir():
        raise RecordingError(str(folder), "is not a folder")
    for name in (STORE_FILE, WEIGHTS_FILE, WEIGHT_TIMES_FILE, TRACKS_FILE, GATES_FILE):
        if not (folder / name).is_file():
            raise RecordingError(name, f"required file is missing from {folder}")

    store = _read_json(folder / STORE_FILE)
    validate_store(store)
    weights, weight_times = _read_weights(folder, store)
    gates = _read_gates(folder / GATES_FILE, store)
    tracks = _read_tracks(folder / TRACKS_FILE, gates)
    truth = None
    if (folder / TRUTH_FILE).is_file():
        truth = _read_json(folder / TRUTH_FILE, TRUTH_FILE)
        validate_truth(truth, store)
    return Recording(
        path=folder,
        store=store,
        weights=weights,
        weight_times=weight_times,
        tracks=tracks,
        gates=gates,
        truth=truth,
    )


def _read_json(path: Path, name: str | None = None) -> dict[str, Any]:
    name = name or path.name
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingError(name, f"is not readable JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise RecordingError(name, "top level must be a JSON object")
    return doc


class _Fields:
    """Typed field access on one JSON object, raising RecordingError with a path to the field."""

    def __init__(self, file: str, where: str, obj: Any) -> None:
        if not isinstance(obj, dict):
            raise RecordingError(file, f"{where} must be an object")
        self.file, self.where, self.obj = file, where, obj

    def _get(self, key: str) -> Any:
        if key not in self.obj:
            raise RecordingError(self.file, f"{self.where} lacks required field {key!r}")
        return self.obj[key]

    def _fault(self, key: str, what: str) -> RecordingError:
        return RecordingError(self.file, f"{self.where}.{key} must be {what}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            raise self._fault(key, "a non-empty string")
        return value

    def integer(self, key: str, minimum: int | None = None) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fault(key, "an integer")
        if minimum is not None and value < minimum:
            raise self._fault(key, f">= {minimum}")
        return value

    def number(self, key: str, minimum: float | None = None, positive: bool = False) -> float:
        value = self._get(key)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or not math.isfinite(value):
            raise self._fault(key, "a finite number")
        if positive and value <= 0:
            raise self._fault(key, "> 0")
        if minimum is not None and value < minimum:
            raise self._fault(key, f">= {minimum}")
        return float(value)

    def vector(self, key: str, n: int) -> list[float]:
        value = self._get(key)
        if (
            not isinstance(value, list)
            or len(value) != n
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in value
            )
        ):
            raise self._fault(key, f"a list of {n} finite numbers")
        return [float(v) for v in value]

    def array(self, key: str) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._fault(key, "a list")
        return value


def validate_store(store: dict[str, Any]) -> None:
    """Check store.json against the spec; raise RecordingError on the first fault."""
    f = STORE_FILE
    top = _Fields(f, "store", store)
    if store.get("format") != FORMAT:
        raise RecordingError(f, f"format must be {FORMAT!r}, got {store.get('format')!r}")
    top.text("store_id")
    top.number("sample_rate_hz", positive=True)
    top.text("currency")

    plate_ids: set[str] = set()
    for i, raw in enumerate(top.array("plates")):
        plate = _Fields(f, f"plates[{i}]", raw)
        pid = plate.text("id")
        if pid in plate_ids:
            raise RecordingError(f, f"plates[{i}].id {pid!r} is not unique")
        plate_ids.add(pid)
        plate.integer("gondola")
        plate.integer("shelf")
        plate.integer("index")
        plate.vector("center", 3)
        plate.number("width", positive=True)
        plate.number("depth", positive=True)
        facing = plate.vector("facing", 2)
        if abs(math.hypot(*facing) - 1.0) > 1e-3:
            raise RecordingError(f, f"plates[{i}].facing must be a unit vector")
    if not plate_ids:
        raise RecordingError(f, "plates must not be empty")

    skus: set[str] = set()
    for i, raw in enumerate(top.array("products")):
        product = _Fields(f, f"products[{i}]", raw)
        sku = product.text("sku")
        if sku in skus:
            raise RecordingError(f, f"products[{i}].sku {sku!r} is not unique")
        skus.add(sku)
        product.text("name")
        product.number("weight_g", positive=True)
        product.number("weight_sd_g", minimum=0.0)
        product.integer("price_minor", minimum=0)

    for i, raw in enumerate(top.array("planogram")):
        entry = _Fields(f, f"planogram[{i}]", raw)
        sku = entry.text("sku")
        if sku not in skus:
            raise RecordingError(f, f"planogram[{i}] names unknown sku {sku!r}")
        for pid in entry.array("plates"):
            if pid not in plate_ids:
                raise RecordingError(f, f"planogram[{i}] names unknown plate {pid!r}")

    for i, raw in enumerate(top.array("initial_stock")):
        entry = _Fields(f, f"initial_stock[{i}]", raw)
        pid, sku = entry.text("plate"), entry.text("sku")
        if pid not in plate_ids:
            raise RecordingError(f, f"initial_stock[{i}] names unknown plate {pid!r}")
        if sku not in skus:
            raise RecordingError(f, f"initial_stock[{i}] names unknown sku {sku!r}")
        entry.integer("count", minimum=0)

    gate_ids: set[str] = set()
    for i, raw in enumerate(top.array("gates")):
        gate = _Fields(f, f"gates[{i}]", raw)
        gid = gate.text("id")
        if gid in gate_ids:
            raise RecordingError(f, f"gates[{i}].id {gid!r} is not unique")
        gate_ids.add(gid)
        gate.vector("center", 3)
    if not gate_ids:
        raise RecordingError(f, "gates must not be empty")


def validate_truth(truth: dict[str, Any], store: dict[str, Any]) -> None:
    """Check truth.json's receipts and actions against the spec and the store."""
    f = TRUTH_FILE
    top = _Fields(f, "truth", truth)
    skus = {p["sku"] for p in store["products"]}
    plates = {p["id"] for p in store["plates"]}
    seen: set[str] = set()
    for i, raw in enumerate(top.array("receipts")):
        receipt = _Fields(f, f"receipts[{i}]", raw)
        account = receipt.text("account_id")
        if account in seen:
            raise RecordingError(f, f"receipts[{i}]: second receipt for account {account!r}")
        seen.add(account)
        for j, item_raw in enumerate(receipt.array("items")):
            item = _Fields(f, f"receipts[{i}].items[{j}]", item_raw)
            if item.text("sku") not in skus:
                raise RecordingError(f, f"receipts[{i}].items[{j}] names unknown sku")
            item.integer("qty", minimum=0)
    # Truth is read only by scoring: the action log is checked for consistency with the
    # store, but an action type this version does not name is left to later versions.
    for i, raw in enumerate(top.array("actions") if "actions" in truth else []):
        action = _Fields(f, f"actions[{i}]", raw)
        action.number("t")
        action.text("type")
        if action.text("sku") not in skus:
            raise RecordingError(f, f"actions[{i}] names unknown sku")
        action.integer("qty", minimum=1)
        plate = raw.get("plate")
        if plate is not None and plate not in plates:
            raise RecordingError(f, f"actions[{i}] names unknown plate {plate!r}")


def _read_weights(folder: Path, store: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    try:
        weights = np.load(folder / WEIGHTS_FILE, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RecordingError(WEIGHTS_FILE, f"is not a readable .npy array ({exc})") from exc
    try:
        times = np.load(folder / WEIGHT_TIMES_FILE, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RecordingError(WEIGHT_TIMES_FILE, f"is not a readable .npy array ({exc})") from exc
    n_plates = len(store["plates"])
    if weights.dtype != np.float32:
        raise RecordingError(WEIGHTS_FILE, f"dtype must be float32, got {weights.dtype}")
    if weights.ndim != 2 or weights.shape[1] != n_plates:
        raise RecordingError(
            WEIGHTS_FILE,
            f"shape must be [T, {n_plates}] (one column per plate), got {weights.shape}",
        )
    if times.dtype != np.float64:
        raise RecordingError(WEIGHT_TIMES_FILE, f"dtype must be float64, got {times.dtype}")
    if times.ndim != 1 or times.shape[0] != weights.shape[0]:
        raise RecordingError(
            WEIGHT_TIMES_FILE,
            f"shape must be [T] with T = {weights.shape[0]} rows of weights.npy, got {times.shape}",
        )
    if not np.all(np.isfinite(times)):
        raise RecordingError(WEIGHT_TIMES_FILE, "times must be finite")
    if times.shape[0] > 1 and not np.all(np.diff(times) > 0):
        bad = int(np.argmin(np.diff(times) > 0)) + 1
        raise RecordingError(WEIGHT_TIMES_FILE, f"times must strictly increase (row {bad})")
    return weights, times


def _read_csv(path: Path, columns: tuple[str, ...], dtypes: dict[str, Any]) -> pd.DataFrame:
    name = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = fh.readline().strip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(name, f"is not readable ({exc})") from exc
    # CSV allows quoted names; the names and their order are what the spec fixes.
    if tuple(h.strip().strip('"') for h in header.split(",")) != columns:
        raise RecordingError(name, f"header must be {','.join(columns)!r}, got {header!r}")
    try:
        frame = pd.read_csv(
            path,
            dtype=dtypes,
            keep_default_na=False,
            na_values={c: [""] for c, d in dtypes.items() if d is np.float64},
            engine="c",
            encoding="utf-8-sig",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise RecordingError(name, f"has a malformed row or unparsable value ({exc})") from exc
    if tuple(frame.columns) != columns:
        raise RecordingError(name, "rows do not match the header's columns")
    return frame


def _as_int_ids(frame: pd.DataFrame, name: str) -> np.ndarray:
    ids = frame["track_id"].to_numpy(np.float64)  # parsed as numbers: empty is NaN
    if not np.all(np.isfinite(ids)) or not np.all(ids == np.round(ids)):
        raise RecordingError(name, "track_id must be an integer")
    return ids.astype(np.int64)


def _stable_time_order(t: np.ndarray) -> np.ndarray | None:
    """None when already sorted by t, else the stable order that sorts it."""
    if t.shape[0] < 2 or bool(np.all(t[1:] >= t[:-1])):
        return None
    return np.argsort(t, kind="stable")


def _read_gates(path: Path, store: dict[str, Any]) -> Gates:
    name = path.name
    frame = _read_csv(
        path,
        GATES_COLUMNS,
        {"t": np.float64, "event": str, "track_id": np.float64, "account_id": str, "role": str,
         "gate_id": str},
    )  # fmt: skip
    t = frame["t"].to_numpy(np.float64)
    if not np.all(np.isfinite(t)):
        raise RecordingError(name, "t must be a finite number on every row")
    track_id = _as_int_ids(frame, name)
    event = frame["event"].to_numpy(object)
    account = frame["account_id"].to_numpy(object).copy()
    role = frame["role"].to_numpy(object).copy()
    gate_id = frame["gate_id"].to_numpy(object)
    order = _stable_time_order(t)
    if order is not None:
        t, track_id, event = t[order], track_id[order], event[order]
        account, role, gate_id = account[order], role[order], gate_id[order]

    known_gates = {g["id"] for g in store["gates"]}
    inside: dict[int, tuple[str, str]] = {}
    visited: set[int] = set()
    for i in range(t.shape[0]):
        tid, ev = int(track_id[i]), event[i]
        where = f"row at t={t[i]:g} (track {tid})"
        if ev not in GATE_EVENTS:
            raise RecordingError(name, f"{where}: event must be enter or exit, got {ev!r}")
        if gate_id[i] not in known_gates:
            raise RecordingError(name, f"{where}: unknown gate_id {gate_id[i]!r}")
        if ev == "enter":
            if tid in visited:
                raise RecordingError(name, f"{where}: track_id enters a second time")
            if not account[i]:
                raise RecordingError(name, f"{where}: account_id is empty")
            if role[i] not in ROLES:
                raise RecordingError(name, f"{where}: role must be shopper or staff")
            visited.add(tid)
            inside[tid] = (account[i], role[i])
        else:
            if tid not in inside:
                raise RecordingError(name, f"{where}: exit of a track that is not inside")
            entered_account, entered_role = inside.pop(tid)
            # Exit rows may leave account and role empty; fill them so users need no lookup.
            if account[i] and account[i] != entered_account:
                raise RecordingError(name, f"{where}: exit account_id differs from the enter")
            if role[i] and role[i] != entered_role:
                raise RecordingError(name, f"{where}: exit role differs from the enter")
            account[i], role[i] = entered_account, entered_role
    return Gates(
        t=t, event=event, track_id=track_id, account_id=account, role=role, gate_id=gate_id
    )


def _read_tracks(path: Path, gates: Gates) -> Tracks:
    name = path.name
    frame = _read_csv(
        path,
        TRACKS_COLUMNS,
        dict.fromkeys(TRACKS_COLUMNS, np.float64),
    )
    t = frame["t"].to_numpy(np.float64)
    track_id = _as_int_ids(frame, name)
    conf = frame["conf"].to_numpy(np.float64)
    head = frame[["head_x", "head_y", "head_z"]].to_numpy(np.float64)
    lwrist = frame[["lwrist_x", "lwrist_y", "lwrist_z"]].to_numpy(np.float64)
    rwrist = frame[["rwrist_x", "rwrist_y", "rwrist_z"]].to_numpy(np.float64)
    if not np.all(np.isfinite(t)):
        raise RecordingError(name, "t must be a finite number on every row")
    if not np.all(np.isfinite(conf)) or np.any(conf < 0) or np.any(conf > 1):
        raise RecordingError(name, "conf must be a number in [0, 1] on every row")
    if not np.all(np.isfinite(head)):
        raise RecordingError(name, "head position must be present on every row")
    for label, wrist in (("lwrist", lwrist), ("rwrist", rwrist)):
        seen = np.isfinite(wrist)
        if np.any(seen.any(axis=1) != seen.all(axis=1)):
            raise RecordingError(name, f"{label} must have all three fields or none")

    _check_tracks_within_visits(name, t, track_id, gates)

    order = _stable_time_order(t)
    if order is not None:
        t, track_id, conf = t[order], track_id[order], conf[order]
        head, lwrist, rwrist = head[order], lwrist[order], rwrist[order]
    return Tracks(
        t=t,
        track_id=track_id,
        conf=conf.astype(np.float32),
        head=head.astype(np.float32),
        lwrist=lwrist.astype(np.float32),
        rwrist=rwrist.astype(np.float32),
    )


def _check_tracks_within_visits(name: str, t: np.ndarray, ids: np.ndarray, gates: Gates) -> None:
    """Every track row must lie in its person's visit: after the enter, not after the exit."""
    if t.shape[0] == 0:
        return
    enters = gates.event == "enter"
    exits = gates.event == "exit"
    enter_t = dict(zip(gates.track_id[enters].tolist(), gates.t[enters].tolist(), strict=True))
    exit_t = dict(zip(gates.track_id[exits].tolist(), gates.t[exits].tolist(), strict=True))
    unique_ids, inverse = np.unique(ids, return_inverse=True)
    unknown = [int(u) for u in unique_ids if int(u) not in enter_t]
    if unknown:
        raise RecordingError(name, f"track_id {unknown[0]} never entered in gates.csv")
    start = np.array([enter_t[int(u)] for u in unique_ids])[inverse]
    stop = np.array([exit_t.get(int(u), math.inf) for u in unique_ids])[inverse]
    # Perception frames and gate events are stamped by different clocks; allow a frame of slack.
    slack = 0.1
    outside = (t < start - slack) | (t > stop + slack)
    if np.any(outside):
        row = int(np.argmax(outside))
        raise RecordingError(
            name, f"row for track {int(ids[row])} at t={t[row]:g} lies outside its visit"
        )


# --------------------------------------------------------------------------- writing


def write_recording(
    path: str | Path,
    store: dict[str, Any],
    weights: np.ndarray,
    weight_times: np.ndarray,
    tracks: Tracks,
    gates: Gates,
    truth: dict[str, Any] | None = None,
) -> None:
    """Write a recording folder per spec (float32 weights, float64 times, exact CSV headers)."""
    folder = Path(path)
    weights = np.asarray(weights, dtype=np.float32)
    weight_times = np.asarray(weight_times, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != len(store["plates"]):
        raise ValueError(f"weights must be [T, {len(store['plates'])}], got {weights.shape}")
    if weight_times.shape != (weights.shape[0],):
        raise ValueError(f"weight_times must be [{weights.shape[0]}], got {weight_times.shape}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STORE_FILE).write_text(json.dumps(store, indent=1) + "\n", encoding="utf-8")
    np.save(folder / WEIGHTS_FILE, weights, allow_pickle=False)
    np.save(folder / WEIGHT_TIMES_FILE, weight_times, allow_pickle=False)

    track_frame = pd.DataFrame(
        {
            "t": np.asarray(tracks.t, np.float64),
            "track_id": np.asarray(tracks.track_id, np.int64),
            "conf": np.asarray(tracks.conf, np.float64),
            **_xyz("head", tracks.head),
            **_xyz("lwrist", tracks.lwrist),
            **_xyz("rwrist", tracks.rwrist),
        },
        columns=list(TRACKS_COLUMNS),
    )
    # 0.1 mm and 0.1 ms are far below perception noise and sample spacing. Arrow writes
    # millions of rows several times faster than pandas; missing wrists become empty fields.
    table = pa.Table.from_pandas(track_frame.round(4), preserve_index=False)
    with (folder / TRACKS_FILE).open("wb") as fh:
        fh.write((",".join(TRACKS_COLUMNS) + "\n").encode())
        pa_csv.write_csv(table, fh, pa_csv.WriteOptions(include_header=False))
    gate_frame = pd.DataFrame(
        {
            "t": np.asarray(gates.t, np.float64),
            "event": gates.event,
            "track_id": np.asarray(gates.track_id, np.int64),
            "account_id": gates.account_id,
            "role": gates.role,
            "gate_id": gates.gate_id,
        },
        columns=list(GATES_COLUMNS),
    )
    gate_frame.to_csv(folder / GATES_FILE, index=False, float_format="%.4f")
    truth_path = folder / TRUTH_FILE
    if truth is not None:
        truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    elif truth_path.exists():
        truth_path.unlink()


def _xyz(prefix: str, points: np.ndarray) -> dict[str, np.ndarray]:
    arr = np.asarray(points, np.float64).reshape(-1, 3)
    return {f"{prefix}_x": arr[:, 0], f"{prefix}_y": arr[:, 1], f"{prefix}_z": arr[:, 2]}


# --------------------------------------------------------------------------- chunking


def recording_end(recording: Recording) -> float:
    """The last time at which anything in the recording was observed (0.0 if nothing was)."""
    ends = [0.0]
    for t in (recording.weight_times, recording.tracks.t, recording.gates.t):
        if t.shape[0]:
            ends.append(float(t[-1]))
    return max(ends)


def iter_chunks(recording: Recording, seconds: float = 1.0) -> Iterator[Chunk]:
    """Yield consecutive (t_start, t_end] windows of `seconds`, in time order, as views.

    Windows sit on the grid k * seconds. The first window also holds any rows at exactly its
    t_start (normally t = 0.0), so no row is ever dropped. The last window ends at or after the
    recording's last observation.
    """
    if not seconds > 0:
        raise ValueError("seconds must be > 0")
    starts = [0.0]
    for t in (recording.weight_times, recording.tracks.t, recording.gates.t):
        if t.shape[0]:
            starts.append(float(t[0]))
    first = math.floor(min(starts) / seconds)
    last = max(first + 1, math.ceil(recording_end(recording) / seconds))
    streams = (recording.weight_times, recording.tracks.t, recording.gates.t)
    cursors = [0, 0, 0]
    for k in range(first, last):
        t_start, t_end = k * seconds, (k + 1) * seconds
        stops = [int(np.searchsorted(s, t_end, side="right")) for s in streams]
        w0, r0, g0 = cursors
        w1, r1, g1 = stops
        yield Chunk(
            t_start=t_start,
            t_end=t_end,
            weights=recording.weights[w0:w1],
            weight_times=recording.weight_times[w0:w1],
            tracks=recording.tracks.rows(r0, r1),
            gates=recording.gates.rows(g0, g1),
        )
        cursors = stops
