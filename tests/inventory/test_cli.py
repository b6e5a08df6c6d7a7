from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.inventory import cli
from retailos.inventory import service as inventory
from tests.inventory.conftest import Shop


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli, "_database", lambda: Database(database_url))
    return CliRunner()


def test_audit_exits_non_zero_on_a_discrepancy(
    runner: CliRunner, db: Database, clock: ManualClock, shop: Shop
) -> None:
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, clock, shop.tenant_id, shop.store, item, 3)
    ok = runner.invoke(cli.app, ["audit"])
    assert (ok.exit_code, "OK" in ok.output) == (0, True)
    with db.transaction() as s:
        s.execute(text("UPDATE inventory_stock SET on_hand = 9 WHERE sku_id = :s"), {"s": item})
    bad = runner.invoke(cli.app, ["audit", "--tenant", shop.tenant_id])
    assert bad.exit_code == 1
    assert "1 discrepancy" in bad.output


def test_expire_holds_releases_reservations_past_their_expiry(
    runner: CliRunner, db: Database, shop: Shop
) -> None:
    # The command reads the system clock, so the holds are made to expire a minute ago.
    past = ManualClock(datetime.now(UTC) - timedelta(minutes=16))
    item = shop.sku()
    with db.transaction() as s:
        inventory.receive(s, past, shop.tenant_id, shop.store, item, 5)
        for n in range(3):
            inventory.reserve(s, past, shop.tenant_id, [(item, 1)], f"chk_{n}",
                              timedelta(minutes=15))
    result = runner.invoke(cli.app, ["expire-holds", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "3 expired hold(s) released" in result.output
    with db.transaction() as s:
        assert inventory.available_to_promise(s, shop.tenant_id, [item]) == {item: 5}
