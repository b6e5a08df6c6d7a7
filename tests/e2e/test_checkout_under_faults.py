"""The server is killed (SIGKILL) at random points while shoppers check out; after each restart
the shoppers replay their requests with the same Idempotency-Keys. No order is lost or doubled,
no stock stays reserved past expiry, and the ledger balances."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from tests.conftest import Actor, LiveServer, start_server
from tests.e2e.store import stock_a_store

CHECKOUTS = 60
SHOPPERS = 6
KILL_EVERY = 8  # answered checkouts between two kills


class Restarter:
    """Keeps a server running on the same database, killing it at random moments."""

    def __init__(self, database_url: str, seed: int) -> None:
        self.database_url = database_url
        self.rng = random.Random(seed)
        self.server: LiveServer = start_server(database_url)
        self.url = self.server.url
        self.kills = 0
        self.lock = threading.Lock()

    def kill_and_restart(self) -> None:
        with self.lock:
            os.kill(self.server.process.pid, signal.SIGKILL)
            self.server.process.wait()
            self.kills += 1
            port = int(self.url.rsplit(":", 1)[1])
            for attempt in range(3):  # a loaded machine can be slow to bring uvicorn up
                try:
                    self.server = start_server(self.database_url, port=port)
                    return
                except TimeoutError:
                    if attempt == 2:
                        raise

    def stop(self) -> None:
        self.server.process.terminate()
        self.server.process.wait(timeout=10)


def checkout_until_answered(url_of: Callable[[], str], actor: Actor, body: dict[str, object],
                            key: str, deadline: float) -> httpx.Response:
    """Retry one checkout with one key through crashes until the server gives a final answer."""
    headers = {**actor.headers, "Idempotency-Key": key}
    last = "nothing"
    while time.monotonic() < deadline:
        try:
            r = httpx.post(f"{url_of()}/v1/checkouts", json=body, headers=headers, timeout=10)
        except httpx.HTTPError as e:
            last = repr(e)
            time.sleep(0.05)
            continue
        if r.status_code < 500:
            return r
        last = f"{r.status_code} {r.text[:300]}"
        time.sleep(0.05)
    raise AssertionError(f"checkout {key} got no final answer; last: {last}")


@pytest.mark.slow
def test_killed_server_loses_and_doubles_nothing(
    database_url: str, db: Database, make_actor: Callable[..., Actor]
) -> None:
    from retailos.inventory import service as inventory
    from retailos.ledger import service as ledger
    from retailos.orders.models import OrderGroup

    shopper = make_actor("retailer")
    store = stock_a_store(db, shopper.tenant_id, skus=8, units=20)
    restarter = Restarter(database_url, seed=11)
    rng = random.Random(5)
    answers: dict[str, int] = {}
    keys = [f"fault-{i}" for i in range(CHECKOUTS)]
    bodies = {
        k: {"currency": "USD", "customer": {"email": f"s{i}@example.com"},
            "payment": {"card_number": "4242424242424242"},
            "lines": [{"sku_id": s, "quantity": rng.randint(1, 3)}
                      for s in rng.sample(store.sku_ids, rng.randint(1, 4))]}
        for i, k in enumerate(keys)
    }
    deadline = time.monotonic() + 240
    todo = list(keys)
    todo_lock = threading.Lock()

    errors: list[BaseException] = []

    def shop() -> None:
        try:
            shop_until_done()
        except BaseException as e:  # surfaced below; a thread cannot fail the test itself
            errors.append(e)

    def shop_until_done() -> None:
        while True:
            with todo_lock:
                if not todo:
                    return
                key = todo.pop()
            r = checkout_until_answered(lambda: restarter.url, shopper, bodies[key], key, deadline)
            answers[key] = r.status_code
            # replay once more after the answer: it must be the same order group, or still a no
            again = checkout_until_answered(lambda: restarter.url, shopper, bodies[key], key,
                                            deadline)
            if r.status_code == 201:
                assert again.status_code == 201, (key, again.status_code, again.text)
                assert again.json()["id"] == r.json()["id"], key

    def chaos() -> None:
        """Kill once per KILL_EVERY answered checkouts (so the number of kills does not depend
        on the machine's speed), at a random moment, mostly in the middle of requests."""
        try:
            next_kill = KILL_EVERY
            while any(t.is_alive() for t in threads):
                if len(answers) < next_kill:
                    time.sleep(0.02)
                    continue
                time.sleep(rng.uniform(0.0, 0.3))
                if any(t.is_alive() for t in threads):
                    restarter.kill_and_restart()
                next_kill = len(answers) + KILL_EVERY
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=shop) for _ in range(SHOPPERS)]
    for t in threads:
        t.start()
    killer = threading.Thread(target=chaos)
    killer.start()
    for t in threads:
        t.join()
    killer.join()
    restarter.stop()

    assert errors == [], "\n".join(sorted({repr(e)[:300] for e in errors}))
    assert restarter.kills >= 4
    assert len(answers) == CHECKOUTS
    assert set(answers.values()) <= {201, 409}
    later = ManualClock(datetime.now(UTC) + timedelta(days=1))
    with db.transaction() as s:
        groups = s.scalar(select(func.count()).select_from(OrderGroup)
                          .where(OrderGroup.tenant_id == shopper.tenant_id))
        assert groups == sum(1 for code in answers.values() if code == 201)
        inventory.expire_holds(s, later)
    with db.transaction() as s:
        assert inventory.audit(s, shopper.tenant_id) == []
        levels = inventory.available_to_promise(s, shopper.tenant_id, store.sku_ids)
        sold = store.sold(s)
        for sku in store.sku_ids:
            assert levels[sku] == store.units - sold.get(sku, 0), sku
        assert ledger.check(s) == []
