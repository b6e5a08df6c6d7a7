"""`retailos webhooks worker --once` dispatches the outbox and delivers, like the worker loop."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from retailos.cli import app
from retailos.core import outbox
from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.core.settings import get_settings
from retailos.webhooks import service
from tests.conftest import Actor
from tests.webhooks.conftest import Receiver


@pytest.fixture
def settings_from_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    logger = logging.getLogger("retailos")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    monkeypatch.setenv("RETAILOS_DATABASE_URL", database_url)
    monkeypatch.setenv("RETAILOS_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    logger.handlers[:], logger.level, logger.propagate = saved


def test_worker_once_delivers_what_the_outbox_holds(
    db: Database, receiver: Receiver, retailer: Actor, settings_from_env: None
) -> None:
    clock = SystemClock()
    with db.transaction() as s:
        service.create_subscription(s, clock, retailer.tenant_id, receiver.url, ["order.*"])
        outbox.publish(s, clock, retailer.tenant_id, "order.created", {"order_id": "ord_1"})

    result = CliRunner().invoke(app, ["webhooks", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "2 events and deliveries handled" in result.output
    assert [r.headers["RetailOS-Event-Type"] for r in receiver.requests] == ["order.created"]


def test_two_worker_processes_deliver_each_event_once(
    db: Database, database_url: str, receiver: Receiver, retailer: Actor
) -> None:
    clock = SystemClock()
    with db.transaction() as s:
        for _ in range(2):
            service.create_subscription(s, clock, retailer.tenant_id, receiver.url, ["*"])
        events = [outbox.publish(s, clock, retailer.tenant_id, "order.created", {"n": n}).id
                  for n in range(30)]
    env = {**os.environ, "RETAILOS_DATABASE_URL": database_url, "RETAILOS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-c", "from retailos.cli import app; app()",
               "webhooks", "worker", "--interval", "0.05"]
    workers = [subprocess.Popen(command, env=env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # long enough for a duplicate to show up, were there one
    finally:
        for w in workers:
            w.terminate()
        codes = [w.wait(timeout=30) for w in workers]

    assert codes == [0, 0]  # SIGTERM lets the worker finish its pass and exit cleanly
    sent = Counter(r.headers["RetailOS-Event-Id"] for r in receiver.requests)
    assert sorted(sent) == sorted(events)
    assert set(sent.values()) == {2}  # once per subscription
