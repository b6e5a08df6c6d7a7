"""Benchmark: plate readings per second the walk-out engine replays on one core.

Simulates (or reuses, cached in the given folder) a `bigstore` recording of about 2,000 plates,
replays it through the engine in half-second chunks (as `replay` does) and prints readings
(rows x plates) per second of engine time, and the same figure with reading the recording
included.

    .venv/bin/python bench/walkout.py [cache_dir] [--minutes 5] [--seed 1] [--chunk 0.5]
"""

from __future__ import annotations

import os

# One core, one thread: pin before numpy starts its thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {0})

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from retailos.walkout.engine import Engine  # noqa: E402
from retailos.walkout.recording import iter_chunks, read_recording  # noqa: E402


def cached_recording(cache: Path, minutes: float, seed: int) -> Path:
    folder = cache / f"bigstore-seed{seed}-{minutes:g}min"
    if (folder / "store.json").exists():
        return folder
    from retailos.sim.store import simulate

    print(f"simulating bigstore, {minutes:g} min, seed {seed} -> {folder}")
    return Path(simulate("bigstore", seed, minutes, folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", nargs="?", default=str(Path(tempfile.gettempdir()) / "walkout"))
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk", type=float, default=0.5)
    args = parser.parse_args()
    folder = cached_recording(Path(args.cache), args.minutes, args.seed)

    wall0 = time.perf_counter()
    recording = read_recording(folder)
    weights = np.ascontiguousarray(recording.weights)  # page a memory map in before timing
    recording = dataclasses.replace(recording, weights=weights)
    read_s = time.perf_counter() - wall0

    engine = Engine(recording.store)
    engine_s = 0.0
    engine_cpu_s = 0.0
    chunking0 = time.perf_counter()
    receipts = 0
    for chunk in iter_chunks(recording, args.chunk):
        t0, c0 = time.perf_counter(), time.process_time()
        receipts += len(engine.feed(chunk))
        engine_s += time.perf_counter() - t0
        engine_cpu_s += time.process_time() - c0
    t0 = time.perf_counter()
    receipts += len(engine.finish())
    engine_s += time.perf_counter() - t0
    total_s = read_s + time.perf_counter() - chunking0

    rows, plates = recording.weights.shape
    readings = rows * plates
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"pinned to cpu 0, python {platform.python_version()}, numpy {np.__version__}")
    print(f"recording: {plates} plates x {rows} rows = {readings / 1e6:.1f} M readings, "
          f"{len(recording.tracks)} track rows, {receipts} receipts")
    print(f"engine only:        {readings / engine_s / 1e6:8.1f} M readings/s "
          f"({engine_s:.2f} s)")
    print(f"with reading files: {readings / total_s / 1e6:8.1f} M readings/s ({total_s:.2f} s)")
    # On a shared machine wall time includes waiting for the core; CPU time does not.
    print(f"engine, CPU time:   {readings / engine_cpu_s / 1e6:8.1f} M readings/s "
          f"({engine_cpu_s:.2f} s); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
