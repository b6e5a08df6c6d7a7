"""Store recordings (shared/specs/store-recording.md, version 1): read, validate, write, chunk.

This module fixes the in-memory shapes that the engine, the simulator and scoring share.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "retailos.store-recording/1"


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


@dataclass(frozen=True)
class Gates:
    """Gate events sorted by t. String columns are numpy object arrays of str."""

    t: np.ndarray  # float64 [G]
    event: np.ndarray  # "enter" | "exit"
    track_id: np.ndarray  # int64 [G]
    account_id: np.ndarray  # str
    role: np.ndarray  # "shopper" | "staff"
    gate_id: np.ndarray  # str


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


def read_recording(path: str | Path) -> Recording:
    raise NotImplementedError  # filled in by the recording work


def write_recording(
    path: str | Path,
    store: dict[str, Any],
    weights: np.ndarray,
    weight_times: np.ndarray,
    tracks: Tracks,
    gates: Gates,
    truth: dict[str, Any] | None = None,
) -> None:
    raise NotImplementedError


def iter_chunks(recording: Recording, seconds: float = 1.0) -> Iterator[Chunk]:
    raise NotImplementedError
