from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from retailos.cli import app as cli
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.money import Money
from retailos.core.settings import get_settings
from retailos.ledger import postings
from tests.conftest import Actor


def sell(db: Database, clock: ManualClock, store: Actor, operator: Actor, ref: str,
         gross: int = 1080) -> str:
    with db.transaction() as s:
        return postings.sale(
            s, clock, store_tenant_id=store.tenant_id, operator_tenant_id=operator.tenant_id,
            ref=ref, gross=Money(gross, "USD"), tax=Money(80, "USD"), fees=Money(80, "USD"),
        ).id


def test_accounts_show_the_callers_balances_only(
    client: TestClient, db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    other = make_actor("seller")
    sell(db, clock, retailer, operator, "grp_1")
    sell(db, clock, other, operator, "grp_2", gross=2080)
    mine = client.get("/v1/ledger/accounts", headers=retailer.headers).json()
    assert {a["code"]: (a["balance"], a["normal_balance"]) for a in mine} == {
        "cash_clearing": (1000, 1000), "platform_fees": (80, 80), "revenue": (-1000, 1000),
        "tax_payable": (-80, 80),
    }
    ops = {a["code"]: a["balance"]
           for a in client.get("/v1/ledger/accounts", headers=operator.headers).json()}
    assert ops == {"cash_clearing": 3160, "owed_to_tenants": -3000, "fee_revenue:referral": -160}


def test_an_entry_is_visible_to_both_sides_each_seeing_its_own_lines(
    client: TestClient, db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    other = make_actor("seller")
    entry_id = sell(db, clock, retailer, operator, "grp_1")
    store_view = client.get(f"/v1/ledger/entries/{entry_id}", headers=retailer.headers).json()
    operator_view = client.get(f"/v1/ledger/entries/{entry_id}", headers=operator.headers).json()
    assert sorted(x["account"] for x in store_view["lines"]) == [
        "cash_clearing", "platform_fees", "revenue", "tax_payable"]
    assert sorted(x["account"] for x in operator_view["lines"]) == [
        "cash_clearing", "fee_revenue:referral", "owed_to_tenants"]
    assert sum(x["amount"] for x in store_view["lines"]) == 0
    assert store_view["originator_tenant_id"] == retailer.tenant_id
    hidden = client.get(f"/v1/ledger/entries/{entry_id}", headers=other.headers)
    assert hidden.status_code == 404
    assert hidden.json()["type"] == "urn:retailos:problem:not-found"
    assert client.get("/v1/ledger/entries", headers=other.headers).json()["data"] == []


def test_entries_are_paginated_oldest_first(
    client: TestClient, db: Database, clock: ManualClock, operator: Actor, retailer: Actor
) -> None:
    ids = [sell(db, clock, retailer, operator, f"grp_{i}") for i in range(5)]
    first = client.get("/v1/ledger/entries?limit=3", headers=retailer.headers).json()
    rest = client.get(f"/v1/ledger/entries?limit=3&cursor={first['next_cursor']}",
                      headers=retailer.headers).json()
    assert [e["id"] for e in first["data"] + rest["data"]] == ids
    assert rest["next_cursor"] is None
    by_ref = client.get("/v1/ledger/entries?ref=grp_3", headers=retailer.headers).json()
    assert [e["id"] for e in by_ref["data"]] == [ids[3]]


def test_ledger_needs_the_ledger_read_scope(
    client: TestClient, make_actor: Callable[..., Actor]
) -> None:
    reader = make_actor("retailer", scopes=["catalog:read"])
    assert client.get("/v1/ledger/accounts", headers=reader.headers).status_code == 403


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("RETAILOS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_ledger_check_exits_zero_on_sound_books_and_one_on_tampered(
    cli_env: CliRunner, db: Database, clock: ManualClock, operator: Actor, retailer: Actor
) -> None:
    sell(db, clock, retailer, operator, "grp_1")
    ok = cli_env.invoke(cli, ["ledger", "check"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK")
    with db.transaction() as s:
        s.execute(text("UPDATE ledger_accounts SET balance = balance + 1 WHERE code = 'revenue'"))
    bad = cli_env.invoke(cli, ["ledger", "check"])
    assert bad.exit_code == 1
    assert "holds balance -999 but its lines sum to -1000" in bad.output


def test_ledger_balances_prints_a_tenants_accounts(
    cli_env: CliRunner, db: Database, clock: ManualClock, operator: Actor, retailer: Actor
) -> None:
    sell(db, clock, retailer, operator, "grp_1")
    result = cli_env.invoke(cli, ["ledger", "balances", "--tenant", retailer.tenant_id])
    assert result.exit_code == 0, result.output
    assert "-10.00 USD" in result.output
    assert "tax_payable" in result.output
