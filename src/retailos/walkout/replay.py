"""Offline replay: run the streaming engine over a recorded store, chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from retailos.walkout.engine import Engine
from retailos.walkout.recording import iter_chunks, read_recording, recording_end

RECEIPTS_FORMAT = "retailos.receipts/1"


def replay_recording(
    recording_dir: Path,
    progress: Callable[[float, float], None] | None = None,
    chunk_seconds: float = 0.5,
) -> dict[str, Any]:
    """Replay a recording folder through a fresh engine; return the receipts.json document.

    Chunks are fed in time order exactly as the live runtime would receive them; a receipt's
    `emitted_t` is the end of the chunk after which the engine issued it, so the chunk length
    bounds the receipt latency from below. Half a second keeps latency well under a second and
    the per-chunk overhead small (bench/walkout.py measures both);
    `progress(t_done, t_total)` is called after each one.
    """
    recording = read_recording(recording_dir)
    engine = Engine(recording.store)
    t_total = recording_end(recording)
    receipts: list[dict[str, Any]] = []
    for chunk in iter_chunks(recording, chunk_seconds):
        receipts += engine.feed(chunk)
        if progress is not None:
            progress(min(chunk.t_end, t_total), t_total)
    receipts += engine.finish()
    return {"format": RECEIPTS_FORMAT, "receipts": receipts}
