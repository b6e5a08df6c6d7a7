"""`retailos webhooks worker --once` dispatches the outbox and delivers, like the worker loop."""

from __future__ import annotations

import logging
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
