"""Orders per second through the HTTP API on PostgreSQL, against pgbench TPC-B on the same server.

Places 10-line baskets drawn from Complete Journey with N concurrent clients, through real
uvicorn workers, on a throwaway PostgreSQL cluster with PostgreSQL's default (durable) settings.
Then, on the same cluster and at the same client count, it runs pgbench's TPC-B. It prints
orders/s, p50 and p99 latency, pgbench's TPS and their ratio. A benchmark, never a test.

    .venv/bin/python bench/orders.py [--clients 8] [--seconds 30] [--workers 2]
                                     [--processor-latency 0.1] [--flash-sale] [--ceiling]

--processor-latency makes the test card processor answer each call after that many seconds, as
a real one across the internet does (Stripe's API answers in about 0.1-0.5 s). --flash-sale puts
one unit of the same product in every basket (a promoted item everyone buys): every checkout
then contends for that product's stock row. --ceiling also runs the stack's simplest read and
write at the same client count, for what any endpoint of this stack can reach on the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import cast

import httpx

from retailos.catalog import service as catalog
from retailos.catalog.completejourney import import_catalogue
from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.migrate import upgrade
from retailos.core.pgcluster import Cluster, free_port, wait_for_port
from retailos.inventory import service as inventory
from retailos.orders.shopper import complete_journey_baskets
from retailos.tenants import service as tenants

LINES = 10
# The stack's simplest requests, for --ceiling: a read (API key, one SELECT) and a write (API
# key, Idempotency-Key, one INSERT, the idempotency record, a commit).
CEILING: list[tuple[str, str, dict[str, object] | None]] = [
    ("GET", "/v1/tax-rate", None), ("POST", "/v1/carts", {"currency": "USD"})]


def ten_line_baskets(count: int) -> list[list[tuple[str, int]]]:
    """`count` Complete Journey baskets of at least LINES distinct products, cut to LINES."""
    chosen = []
    for basket in complete_journey_baskets(seed=3):
        distinct = dict(basket)
        if len(distinct) >= LINES:
            chosen.append(list(islice(distinct.items(), LINES)))
            if len(chosen) == count:
                return chosen
    raise RuntimeError("not enough large baskets")


def set_up_store(db: Database, baskets: list[list[tuple[str, int]]]) -> tuple[str, dict[str, str]]:
    """A retailer (beside the operator) selling every product of the baskets, well stocked."""
    clock = SystemClock()
    upgrade(db)
    with db.transaction() as s:
        tenants.create_tenant(s, clock, "operator", "Platform")
        store = tenants.create_tenant(s, clock, "retailer", "Bench Grocer")
        token = tenants.create_api_key(s, clock, store.id, "bench").token
    wanted = {int(code) for basket in baskets for code, _ in basket}
    import_catalogue(db, clock, store.id, product_ids=wanted)
    variant_of: dict[str, str] = {}
    with db.transaction() as s:
        cursor = None
        while True:
            page, cursor = catalog.list_variants(s, store.id, cursor=cursor, limit=200)
            variant_of.update({v.sku: v.id for v in page})
            if cursor is None:
                break
        location = inventory.create_location(s, clock, store.id, "wh", "Warehouse", "warehouse")
        inventory.receive_many(s, clock, store.id, location.id,
                               dict.fromkeys(variant_of.values(), 1_000_000))
    return token, variant_of


def place_orders(url: str, token: str, bodies: Sequence[dict[str, object] | None], clients: int,
                 seconds: float, method: str = "POST", path: str = "/v1/checkouts",
                 ) -> tuple[list[float], dict[int, int], float]:
    """`clients` threads sending `method path` with the bodies in turn for `seconds`; the
    latencies of the successful answers, the count of each status code, and the wall time."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    started = time.monotonic()

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = n
            while time.monotonic() < stop_at:
                body = bodies[i % len(bodies)]
                i += clients
                headers = {"Authorization": f"Bearer {token}",
                           "Idempotency-Key": uuid.uuid4().hex}
                t0 = time.perf_counter()
                r = http.request(method, path, json=body, headers=headers)
                elapsed = time.perf_counter() - t0
                with lock:
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
                    if 200 <= r.status_code < 300:
                        latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, codes, time.monotonic() - started


def pgbench_tps(cluster: Cluster, clients: int, seconds: int) -> tuple[float, float]:
    """TPC-B transactions per second, and the CPU seconds PostgreSQL spent on them."""
    cluster.psql("CREATE DATABASE pgbench")
    cluster.pgbench("-i", "-q", "-s", str(max(clients, 8)), database="pgbench")
    before = cpu_seconds(postmaster(cluster))
    out = cluster.pgbench("-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
                          "-T", str(seconds), database="pgbench")
    used = cpu_seconds(postmaster(cluster)) - before
    found = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    done = re.search(r"number of transactions actually processed: (\d+)", out)
    if not found or not done:
        raise RuntimeError(f"could not read pgbench's TPS from:\n{out}")
    return float(found.group(1)), used / max(int(done.group(1)), 1)


def postmaster(cluster: Cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def cpu_seconds(root: int) -> float:
    """CPU time of a process and its live children, plus what its exited children used (Linux's
    /proc; 0 elsewhere). PostgreSQL's backends are children of the postmaster, uvicorn's
    workers of its master."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif ppid == root:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="uvicorn worker processes")
    parser.add_argument("--baskets", type=int, default=2000)
    parser.add_argument("--processor-latency", type=float, default=0.0,
                        help="seconds the test processor takes per call")
    parser.add_argument("--flash-sale", action="store_true",
                        help="every basket also holds one unit of the same product")
    parser.add_argument("--ceiling", action="store_true",
                        help="also measure the stack's simplest read and write requests")
    args = parser.parse_args()

    baskets = ten_line_baskets(args.baskets)
    with Cluster(durable=True) as cluster:
        cluster.psql("CREATE DATABASE retailos")
        url = cluster.url("retailos")
        db = Database(url)
        token, variant_of = set_up_store(db, baskets)
        db.dispose()
        bodies: list[dict[str, object]] = [
            {"currency": "USD", "customer": {"email": f"bench{i}@example.com"},
             "payment": {"card_number": "4242424242424242"},
             "lines": [{"sku_id": variant_of[code], "quantity": min(qty, 3)}
                       for code, qty in basket if code in variant_of]}
            for i, basket in enumerate(baskets)
        ]
        if args.flash_sale:
            promoted = baskets[0][0][0]
            for body, basket in zip(bodies, baskets, strict=True):
                if promoted not in dict(basket):
                    lines = cast(list[dict[str, object]], body["lines"])
                    body["lines"] = [*lines, {"sku_id": variant_of[promoted], "quantity": 1}]
        port = free_port()
        env = {**os.environ, "RETAILOS_DATABASE_URL": url, "RETAILOS_LOG_LEVEL": "WARNING",
               "RETAILOS_PAYMENTS_TEST_LATENCY_SECONDS": str(args.processor_latency)}
        import subprocess

        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "retailos.api.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers), "--log-level", "warning"],
            env=env, cwd=Path(__file__).resolve().parent.parent)
        try:
            wait_for_port(port, timeout=60)
            base = f"http://127.0.0.1:{port}"
            place_orders(base, token, bodies[-50:], args.clients, 5)  # warm-up
            cpu_before = cpu_seconds(server.pid), cpu_seconds(postmaster(cluster))
            latencies, codes, wall = place_orders(base, token, bodies, args.clients,
                                                  args.seconds)
            api_cpu = cpu_seconds(server.pid) - cpu_before[0]
            db_cpu = cpu_seconds(postmaster(cluster)) - cpu_before[1]
            ceilings = {
                f"{method} {path}": len(done) / took
                for method, path, body in CEILING if args.ceiling
                for done, _, took in [place_orders(base, token, [body], args.clients,
                                                   args.seconds, method, path)]
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
        tps, tpcb_cpu = pgbench_tps(cluster, args.clients, int(args.seconds))

    orders = len(latencies)
    rate = orders / wall
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"orders placed: {orders} in {wall:.1f} s, {LINES}-line baskets, "
          f"{args.clients} clients, {args.workers} workers, processor latency "
          f"{args.processor_latency:g} s{', flash sale' if args.flash_sale else ''}; "
          f"answers {dict(sorted(codes.items()))}")
    print(f"orders/s: {rate:.1f}")
    print(f"latency p50: {q[49] * 1000:.0f} ms, p99: {q[98] * 1000:.0f} ms")
    print(f"pgbench TPC-B tps: {tps:.1f} ({args.clients} clients)")
    print(f"ratio orders/s / pgbench tps: {rate / tps:.3f}")
    # What each side costs the machine, whatever else runs on it (pgbench's TPS can be bound by
    # the WAL's fsync rather than by CPU, so compare the CPU figures, not only the ratio).
    per_order = 1000 / max(orders, 1)
    print(f"CPU per order: API workers {api_cpu * per_order:.1f} ms, PostgreSQL "
          f"{db_cpu * per_order:.1f} ms; per TPC-B transaction: PostgreSQL "
          f"{tpcb_cpu * 1000:.2f} ms (pgbench's client not counted)")
    for request, per_second in ceilings.items():
        print(f"ceiling {request}: {per_second:.1f}/s, ratio {per_second / tps:.3f}")


if __name__ == "__main__":
    main()
