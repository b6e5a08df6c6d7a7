"""A small worked example: one month of a store's fees, and the operator's P&L."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from retailos.billing import service as billing
from retailos.cli import app as cli
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.money import Money
from retailos.core.settings import get_settings
from retailos.ledger import postings
from tests.conftest import Actor


def usd(amount: int) -> Money:
    return Money(amount, "USD")


NOVEMBER = datetime(2026, 11, 10, tzinfo=UTC)


def november_usage(db: Database, clock: ManualClock, store: str) -> None:
    clock.advance(seconds=(NOVEMBER - clock.now()).total_seconds())
    with db.transaction() as s:
        for ref, referral in (("ord_1", 250), ("ord_2", 160), ("ord_3", 90)):
            billing.record_usage(s, clock, store, "referral", 1, usd(referral), ref)
            billing.record_usage(s, clock, store, "order", 1, usd(99), ref)
        billing.record_usage(s, clock, store, "referral", -1, usd(-40), "ret_1")
    clock.advance(days=30)  # December: not on November's statement
    with db.transaction() as s:
        billing.record_usage(s, clock, store, "referral", 1, usd(1000), "ord_4")


def test_statement_sums_a_months_usage_by_service_line(
    db: Database, clock: ManualClock, retailer: Actor
) -> None:
    november_usage(db, clock, retailer.tenant_id)
    with db.transaction() as s:
        st = billing.statement(s, retailer.tenant_id, 2026, 11, "USD")
    assert st.lines == [
        billing.StatementLine("order", 3, usd(297), usd(0), usd(297)),
        billing.StatementLine("referral", 3, usd(500), usd(40), usd(460)),
    ]
    assert (st.total_fees, st.total_refunds, st.net) == (usd(797), usd(40), usd(757))


def november_books(db: Database, clock: ManualClock, operator: str, a: str, b: str) -> None:
    clock.advance(seconds=(NOVEMBER - clock.now()).total_seconds())
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=a, operator_tenant_id=operator, ref="ord_a",
                      gross=usd(1080), tax=usd(80), fees=usd(80),
                      fee_lines={"referral": usd(60), "order": usd(20)})
        postings.sale(s, clock, store_tenant_id=b, operator_tenant_id=operator, ref="ord_b",
                      gross=usd(2160), tax=usd(160), fees=usd(150))
        postings.refund(s, clock, store_tenant_id=a, operator_tenant_id=operator, ref="ret_a",
                        amount=usd(540), tax=usd(40), fees_returned=usd(30))
        postings.processing_cost(s, clock, operator_tenant_id=operator, ref="pay_1",
                                 amount=usd(100))
        postings.sale(s, clock, store_tenant_id=operator, operator_tenant_id=operator,
                      ref="ord_own", gross=usd(500), tax=usd(0), fees=usd(40))
    clock.advance(days=30)
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=a, operator_tenant_id=operator, ref="ord_dec",
                      gross=usd(9999), tax=usd(0), fees=usd(999))


def test_operator_pnl_by_service_line(
    db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    other = make_actor("seller")
    november_books(db, clock, operator.tenant_id, retailer.tenant_id, other.tenant_id)
    with db.transaction() as s:
        pnl = billing.profit_and_loss(s, operator.tenant_id, date(2026, 11, 1),
                                      date(2026, 11, 30), "USD")
    # referral 60 + 150 - 30 returned + 40 from its own store; order 20; retail: own sales.
    assert pnl.revenue == [billing.PnlRow("order", usd(20)), billing.PnlRow("referral", usd(220)),
                           billing.PnlRow("retail", usd(500))]
    assert pnl.costs == [billing.PnlRow("payment_processing", usd(100)),
                         billing.PnlRow("platform_fees", usd(40))]
    assert (pnl.total_revenue, pnl.total_costs, pnl.profit) == (usd(740), usd(140), usd(600))


def test_pnl_is_for_the_operator_only(
    client: TestClient, db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    other = make_actor("seller")
    november_books(db, clock, operator.tenant_id, retailer.tenant_id, other.tenant_id)
    query = "/v1/billing/pnl?from=2026-11-01&to=2026-11-30&currency=USD"
    assert client.get(query, headers=retailer.headers).status_code == 403
    body = client.get(query, headers=operator.headers).json()
    assert (body["from"], body["to"], body["profit"]) == ("2026-11-01", "2026-11-30", 600)
    assert {r["name"]: r["amount"] for r in body["revenue"]} == {
        "order": 20, "referral": 220, "retail": 500}
    whole = client.get("/v1/billing/pnl?from=2026-11-01&to=2026-12-31",
                       headers=operator.headers).json()
    assert whole["profit"] == 600 + 999


def test_statement_api_is_scoped_to_the_caller(
    client: TestClient, db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    other = make_actor("seller")
    november_usage(db, clock, retailer.tenant_id)
    mine = client.get("/v1/billing/statements/2026-11", headers=retailer.headers).json()
    assert (mine["total_fees"], mine["total_refunds"], mine["net"]) == (797, 40, 757)
    theirs = client.get("/v1/billing/statements/2026-11", headers=other.headers).json()
    assert theirs["lines"] == [] and theirs["net"] == 0
    peek = client.get(f"/v1/billing/statements/2026-11?tenant_id={retailer.tenant_id}",
                      headers=other.headers)
    assert peek.status_code == 404
    by_operator = client.get(f"/v1/billing/statements/2026-11?tenant_id={retailer.tenant_id}",
                             headers=operator.headers).json()
    assert by_operator == mine
    for bad in ("2026-13", "26-11", "2026-1"):
        assert client.get(f"/v1/billing/statements/{bad}",
                          headers=retailer.headers).status_code == 422


def test_fee_schedules_are_set_by_the_operator_and_read_by_their_tenant(
    client: TestClient, operator: Actor, retailer: Actor, make_actor: Callable[..., Actor]
) -> None:
    other = make_actor("seller")
    body = {"tenant_id": retailer.tenant_id, "currency": "USD", "referral_bps": 1500,
            "referral_min_per_item": 25, "per_order": 99}
    assert client.post("/v1/billing/fee-schedules", json=body,
                       headers=retailer.headers).status_code == 403
    created = client.post("/v1/billing/fee-schedules", json=body, headers=operator.headers)
    assert created.status_code == 201
    unknown = client.post("/v1/billing/fee-schedules",
                          json={**body, "tenant_id": "ten_nobody"}, headers=operator.headers)
    assert unknown.status_code == 404
    invalid = client.post("/v1/billing/fee-schedules", json={**body, "referral_bps": -1},
                          headers=operator.headers)
    assert invalid.status_code == 422
    listed = client.get("/v1/billing/fee-schedules", headers=retailer.headers).json()
    assert [s["id"] for s in listed] == [created.json()["id"]]
    assert client.get("/v1/billing/fee-schedules", headers=other.headers).json() == []
    terms = client.get("/v1/billing/fee-terms", headers=retailer.headers).json()
    assert (terms["referral_bps"], terms["per_order"], terms["is_default"]) == (1500, 99, False)
    default = client.get("/v1/billing/fee-terms", headers=other.headers).json()
    assert (default["referral_bps"], default["referral_min_per_item"],
            default["is_default"]) == (800, 30, True)
    peek = client.get(f"/v1/billing/fee-terms?tenant_id={retailer.tenant_id}",
                      headers=other.headers)
    assert peek.status_code == 404


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("RETAILOS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "160")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_prints_the_statement_and_the_pnl(
    runner: CliRunner, db: Database, clock: ManualClock, operator: Actor, retailer: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    november_usage(db, clock, retailer.tenant_id)
    november_books(db, clock, operator.tenant_id, retailer.tenant_id,
                   make_actor("seller").tenant_id)
    st = runner.invoke(cli, ["billing", "statement", "--tenant", retailer.tenant_id,
                             "--month", "2026-11"])
    assert st.exit_code == 0, st.output
    assert "7.97 USD" in st.output and "7.57 USD" in st.output
    pnl = runner.invoke(cli, ["billing", "pnl", "--from", "2026-11-01", "--to", "2026-11-30"])
    assert pnl.exit_code == 0, pnl.output
    assert "referral" in pnl.output and "6.00 USD" in pnl.output
    bad = runner.invoke(cli, ["billing", "statement", "--tenant", retailer.tenant_id,
                              "--month", "November"])
    assert bad.exit_code == 2


def test_statement_reconciles_metered_fees_with_the_ledger(
    db: Database, clock: ManualClock, operator: Actor, retailer: Actor
) -> None:
    store = retailer.tenant_id
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=store, operator_tenant_id=operator.tenant_id,
                      ref="ord_1", gross=usd(3000), tax=usd(0), fees=usd(250),
                      fee_lines={"referral": usd(151), "order": usd(99)})
        billing.record_usage(s, clock, store, "referral", 1, usd(151), "ord_1")
        billing.record_usage(s, clock, store, "order", 1, usd(99), "ord_1")
        postings.refund(s, clock, store_tenant_id=store, operator_tenant_id=operator.tenant_id,
                        ref="ret_1", amount=usd(1000), tax=usd(0), fees_returned=usd(50))
        billing.record_usage(s, clock, store, "referral", -1, usd(-50), "ret_1")
        agreed = billing.statement(s, store, 2026, 1, "USD")
        billing.record_usage(s, clock, store, "order", 1, usd(99), "ord_2")  # never booked
        disagreed = billing.statement(s, store, 2026, 1, "USD")
    assert (agreed.net, agreed.ledger_fees, agreed.reconciled) == (usd(200), usd(200), True)
    assert (disagreed.net, disagreed.ledger_fees, disagreed.reconciled) == (
        usd(299), usd(200), False)


def test_setting_a_schedule_replays_under_its_idempotency_key(
    client: TestClient, operator: Actor, retailer: Actor
) -> None:
    headers = {**operator.headers, "Idempotency-Key": "fees-1"}
    body = {"tenant_id": retailer.tenant_id, "currency": "USD", "referral_bps": 1200,
            "referral_min_per_item": 0, "per_order": 0}
    first = client.post("/v1/billing/fee-schedules", json=body, headers=headers)
    again = client.post("/v1/billing/fee-schedules", json=body, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(client.get("/v1/billing/fee-schedules", headers=retailer.headers).json()) == 1


def test_odd_periods_and_unknown_tenants_are_4xx_not_500(
    client: TestClient, operator: Actor
) -> None:
    far = client.get("/v1/billing/pnl?from=0001-01-01&to=9999-12-31", headers=operator.headers)
    assert far.status_code == 422
    backwards = client.get("/v1/billing/pnl?from=2026-11-02&to=2026-11-01",
                           headers=operator.headers)
    assert backwards.status_code == 422
    unknown = client.get("/v1/billing/statements/2026-11?tenant_id=ten_nobody&currency=USD",
                         headers=operator.headers)
    assert unknown.status_code == 404
