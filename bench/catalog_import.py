"""Benchmark: the full Complete Journey import (92,331 products) into a fresh SQLite database.

Times a first import (everything created), then a second (everything unchanged), each as one
transaction including the commit, and prints products per second. The target is under 60 s for
the first run on a 2-core machine. `--postgres` runs the same on a throwaway PostgreSQL cluster.

    .venv/bin/python bench/catalog_import.py [--limit N] [--keep /path/to/db] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from retailos.catalog.completejourney import import_catalogue
from retailos.catalog.models import Category, Price, Product, Variant
from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.migrate import upgrade
from retailos.tenants import service as tenants

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N products")
    parser.add_argument("--keep", type=Path, default=None, help="write the database here")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL instead")
    args = parser.parse_args()
    if args.postgres:
        from retailos.core.pgcluster import Cluster

        with Cluster() as cluster:
            cluster.psql("CREATE DATABASE bench")
            run(Database(cluster.url("bench")), "postgresql", args.limit)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        run(Database(f"sqlite:///{path}"), f"sqlite at {path}", args.limit)


def run(db: Database, where: str, limit: int | None) -> None:
    """Import twice into a new tenant of `db`, printing the time and rate of each run."""
    upgrade(db)
    clock = SystemClock()
    with db.transaction() as s:
        tenant_id = tenants.create_tenant(s, clock, "retailer", "Bench Grocer").id
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}, {where}")
    for label in ("first import (creates)", "second import (no changes)"):
        started = time.perf_counter()
        with db.transaction() as s:
            result = import_catalogue(s, clock, tenant_id, limit=limit)
        seconds = time.perf_counter() - started
        print(f"{label:28} {result.total:>7,} products in {seconds:6.1f} s "
              f"= {result.total / seconds:>6,.0f} products/s "
              f"(created {result.created:,}, updated {result.updated:,}, "
              f"unchanged {result.unchanged:,})")
        if label.startswith("first") and limit is None:
            verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
            print(f"{'':28} {verdict} the {TARGET_SECONDS:.0f} s target")
    with db.sessions() as s:
        counts = {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                  for m in (Category, Product, Variant, Price)}
        weighed = s.scalar(select(func.count()).select_from(Variant)
                           .where(Variant.unit_weight_g.is_not(None)))
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items())
          + f"; variants with a unit weight {weighed:,}")
    db.dispose()


if __name__ == "__main__":
    main()
