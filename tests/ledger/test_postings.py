from __future__ import annotations

import pytest
from sqlalchemy import text

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Conflict, InvalidInput, NotFound
from retailos.core.money import Money
from retailos.ledger import postings, service
from retailos.ledger.service import LineDraft
from tests.conftest import recorded_statements

STORE, OTHER_STORE, OPERATOR = "ten_store", "ten_other", "ten_operator"


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def nonzero(balances: dict[str, Money]) -> dict[str, Money]:
    return {code: m for code, m in balances.items() if m.amount}


def sell(db: Database, clock: ManualClock, gross: int = 1080, tax: int = 80, fees: int = 80,
         store: str = STORE, ref: str = "grp_1") -> str:
    with db.transaction() as s:
        return postings.sale(s, clock, store_tenant_id=store, operator_tenant_id=OPERATOR,
                             ref=ref, gross=usd(gross), tax=usd(tax), fees=usd(fees)).id


@pytest.mark.parametrize(("lines", "message"), [
    ([LineDraft(STORE, "cash_clearing", usd(100))], "at least two lines"),
    ([LineDraft(STORE, "cash_clearing", usd(100)), LineDraft(STORE, "revenue", usd(-99))],
     "does not balance"),
    ([LineDraft(STORE, "cash_clearing", usd(100)),
      LineDraft(STORE, "revenue", Money(-100, "EUR"))], "one currency"),
    ([LineDraft(STORE, "cash_clearing", usd(100)), LineDraft(STORE, "petty_cash", usd(-100))],
     "unknown account code"),
    ([LineDraft(STORE, "cash_clearing", usd(100)), LineDraft(OPERATOR, "revenue", usd(-100))],
     "within the books of"),
    ([LineDraft(STORE, "cash_clearing", usd(0)), LineDraft(STORE, "revenue", usd(0))],
     "non-zero"),
])
def test_malformed_entries_are_rejected_and_nothing_is_written(
    db: Database, clock: ManualClock, lines: list[LineDraft], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message), db.transaction() as s:
        service.post(s, clock, STORE, "ref", "manual", "bad", lines)
    with db.transaction() as s:
        assert service.balances(s, STORE) == {}
        assert service.list_entries(s, STORE)[0] == []


def test_sale_books_revenue_tax_and_fees_on_both_sides(db: Database, clock: ManualClock) -> None:
    sell(db, clock, gross=1080, tax=80, fees=80)
    with db.transaction() as s:
        assert service.balances(s, STORE) == {
            "cash_clearing": usd(1000), "platform_fees": usd(80), "revenue": usd(-1000),
            "tax_payable": usd(-80),
        }
        assert service.balances(s, OPERATOR) == {
            "cash_clearing": usd(1080), "owed_to_tenants": usd(-1000),
            "fee_revenue:referral": usd(-80),
        }
        assert service.check(s) == []


def test_the_processors_charge_is_the_operators_expense(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR, ref="grp_p",
                      gross=usd(1080), tax=usd(80), fees=usd(80), processing=usd(61))
    with db.transaction() as s:
        assert service.balances(s, STORE) == {  # the store's books do not see it
            "cash_clearing": usd(1000), "platform_fees": usd(80), "revenue": usd(-1000),
            "tax_payable": usd(-80),
        }
        assert service.balances(s, OPERATOR) == {
            "cash_clearing": usd(1019), "payment_processing": usd(61),
            "owed_to_tenants": usd(-1000), "fee_revenue:referral": usd(-80),
        }
        assert service.check(s) == []
    with pytest.raises(InvalidInput, match="processing"), db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR, ref="grp_n",
                      gross=usd(1080), tax=usd(80), fees=usd(80), processing=usd(-1))


def test_refund_returns_money_tax_and_part_of_the_fees(db: Database, clock: ManualClock) -> None:
    sell(db, clock, gross=1080, tax=80, fees=80)
    with db.transaction() as s:
        postings.refund(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR,
                        ref="ret_1", amount=usd(540), tax=usd(40), fees_returned=usd(30))
        assert service.balances(s, STORE) == {
            "cash_clearing": usd(490), "platform_fees": usd(50), "revenue": usd(-1000),
            "customer_refunds": usd(500), "tax_payable": usd(-40),
        }
        assert service.balances(s, OPERATOR) == {
            "cash_clearing": usd(540), "owed_to_tenants": usd(-490),
            "fee_revenue:referral": usd(-50),
        }


def test_fees_split_by_service_line(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR, ref="g",
                      gross=usd(2000), tax=usd(0), fees=usd(250),
                      fee_lines={"referral": usd(200), "order": usd(50)})
        ops = service.balances(s, OPERATOR)
    assert ops["fee_revenue:referral"] == usd(-200)
    assert ops["fee_revenue:order"] == usd(-50)


def test_fee_lines_must_add_up_to_fees(db: Database, clock: ManualClock) -> None:
    with pytest.raises(InvalidInput, match="add up"), db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR, ref="g",
                      gross=usd(2000), tax=usd(0), fees=usd(250),
                      fee_lines={"referral": usd(200)})


def test_operator_selling_its_own_stock_has_no_intercompany_lines(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=OPERATOR, operator_tenant_id=OPERATOR, ref="g",
                      gross=usd(1080), tax=usd(80), fees=usd(80))
        assert service.balances(s, OPERATOR) == {
            "cash_clearing": usd(1080), "revenue": usd(-1000), "tax_payable": usd(-80),
            "platform_fees": usd(80), "fee_revenue:referral": usd(-80),
        }


def test_reversal_restores_every_balance(db: Database, clock: ManualClock) -> None:
    sell(db, clock, gross=500, tax=0, fees=40, ref="grp_keep")
    with db.transaction() as s:
        before = (nonzero(service.balances(s, STORE)), nonzero(service.balances(s, OPERATOR)))
    entry_id = sell(db, clock, gross=1080, tax=80, fees=80)
    with db.transaction() as s:
        reversal = service.reverse(s, clock, OPERATOR, entry_id, "captured twice")
        assert reversal.reverses_id == entry_id
        after = (nonzero(service.balances(s, STORE)), nonzero(service.balances(s, OPERATOR)))
        assert service.check(s) == []
    assert after == before


def test_an_entry_is_reversed_at_most_once_and_reversals_are_final(
    db: Database, clock: ManualClock
) -> None:
    entry_id = sell(db, clock)
    with db.transaction() as s:
        reversal_id = service.reverse(s, clock, STORE, entry_id, "mistake").id
    with pytest.raises(Conflict, match="already reversed"), db.transaction() as s:
        service.reverse(s, clock, STORE, entry_id, "again")
    with pytest.raises(Conflict, match="is a reversal"), db.transaction() as s:
        service.reverse(s, clock, STORE, reversal_id, "undo the undo")


def test_a_tenant_cannot_see_or_reverse_an_entry_it_is_not_part_of(
    db: Database, clock: ManualClock
) -> None:
    entry_id = sell(db, clock)
    with db.transaction() as s:
        with pytest.raises(NotFound):
            service.reverse(s, clock, OTHER_STORE, entry_id, "not mine")
        with pytest.raises(NotFound):
            service.get_entry(s, OTHER_STORE, entry_id)
        seen = service.get_entry(s, STORE, entry_id)
    assert {line.tenant_id for line in seen.lines} == {STORE}
    assert sum(line.amount for line in seen.lines) == 0


def test_journal_rows_cannot_be_changed_through_the_orm(db: Database, clock: ManualClock) -> None:
    entry_id = sell(db, clock)
    with pytest.raises(RuntimeError, match="append-only"), db.transaction() as s:
        view = service.get_entry(s, STORE, entry_id)
        view.lines[0].amount += 1
        s.flush()


@pytest.mark.parametrize(("tamper", "expected"), [
    ("UPDATE journal_lines SET amount = amount + 1 WHERE line_no = 1",
     ["does not balance", "does not balance for tenant", "holds balance"]),
    ("UPDATE ledger_accounts SET balance = balance - 5 WHERE code = 'revenue'",
     ["holds balance"]),
    ("UPDATE journal_lines SET amount = -amount WHERE entry_id IN "
     "(SELECT id FROM journal_entries WHERE reverses_id IS NOT NULL)",
     ["not the negation"]),
    ("DELETE FROM journal_lines WHERE line_no > 1",
     ["does not balance", "does not balance for tenant", "line(s)", "holds balance"]),
])
def test_check_finds_tampering(
    db: Database, clock: ManualClock, tamper: str, expected: list[str]
) -> None:
    sell(db, clock)
    mistaken = sell(db, clock, ref="grp_2")
    with db.transaction() as s:
        service.reverse(s, clock, STORE, mistaken, "mistake")
        assert service.check(s) == []
        s.execute(text(tamper))
    with db.transaction() as s:
        problems = service.check(s)
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)


def test_proportional_share_rounds_half_away_from_zero() -> None:
    assert postings.proportional(usd(1), usd(3), usd(100)) == usd(33)
    assert postings.proportional(usd(1), usd(2), usd(101)) == usd(51)
    assert postings.proportional(usd(3), usd(3), usd(80)) == usd(80)


def test_balances_need_a_currency_when_a_tenant_holds_several(
    db: Database, clock: ManualClock
) -> None:
    sell(db, clock)
    with db.transaction() as s:
        postings.sale(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR, ref="eu",
                      gross=Money(500, "EUR"), tax=Money(0, "EUR"), fees=Money(40, "EUR"))
        with pytest.raises(InvalidInput, match="name a currency"):
            service.balances(s, STORE)
        assert service.balances(s, STORE, "EUR")["revenue"] == Money(-500, "EUR")


def test_a_sale_touching_eight_accounts_takes_four_statements(
    db: Database, clock: ManualClock
) -> None:
    def sale(ref: str) -> None:
        with db.transaction() as s:
            postings.sale(s, clock, store_tenant_id=STORE, operator_tenant_id=OPERATOR,
                          ref=ref, gross=usd(2000), tax=usd(100), fees=usd(250),
                          fee_lines={"referral": usd(200), "order": usd(50)})

    sale("grp_1")  # opens the accounts
    with recorded_statements(db, begin=False) as seen:
        sale("grp_2")
    # lock the accounts, move every balance, the entry, its lines
    assert [x.split()[0].upper() for x in seen] == ["SELECT", "UPDATE", "INSERT", "INSERT"]
    with db.transaction() as s:
        assert service.balances(s, OPERATOR)["fee_revenue:order"] == usd(-100)
        assert service.check(s) == []


def test_entries_spread_over_the_shards_of_an_account_and_balances_sum_them(
    db: Database, clock: ManualClock
) -> None:
    refs = [f"grp_{n}" for n in range(40)]
    shards = {service.shard_of(ref) for ref in refs}
    assert len(shards) > 1  # the operator's hot accounts are not one row
    for ref in refs:
        sell(db, clock, gross=1080, tax=80, fees=80, ref=ref)
    with db.transaction() as s:
        rows = s.execute(text(
            "SELECT shard, balance FROM ledger_accounts WHERE tenant_id = :t AND code = 'revenue'"
        ), {"t": STORE}).all()
        assert len(rows) == service.SHARDS  # opened together on first use
        assert {shard for shard, balance in rows if balance} == shards
        assert service.balances(s, STORE)["revenue"] == usd(-1000 * len(refs))
        accounts = len(service.accounts(s, STORE)) + len(service.accounts(s, OPERATOR))
        assert service.totals(s) == (len(refs), len(refs) * 7, accounts)  # accounts, not rows
        assert service.check(s) == []


def test_a_reversal_moves_the_same_shard_rows_as_its_entry(
    db: Database, clock: ManualClock
) -> None:
    entry_id = sell(db, clock, ref="grp_7")
    with db.transaction() as s:
        service.reverse(s, clock, STORE, entry_id, "mistake")
    with db.transaction() as s:
        moved = s.execute(text("SELECT count(*) FROM ledger_accounts WHERE balance != 0"))
        assert moved.scalar() == 0  # each row back to zero, not two shards that cancel
        assert service.check(s) == []
