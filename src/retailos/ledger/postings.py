"""Business postings. Each function posts ONE balanced entry (see `chart` for the accounts).

A sale of gross G (what the shopper paid, tax T included) with platform fees F:

    store:     cash_clearing  +(G-F)   platform_fees +F   revenue -(G-T)   tax_payable -T
    operator:  cash_clearing  +(G-P)   owed_to_tenants -(G-F)   fee_revenue:<line> -F
               payment_processing +P

where P is what the payment processor kept of G as its charge: the operator collects the money
and pays the processor (a refund does not give P back, as card processors keep their fee).

A refund of A (tax T included) returning fees Fr is the same shape reversed:

    store:     customer_refunds +(A-T)  tax_payable +T  cash_clearing -(A-Fr)  platform_fees -Fr
    operator:  owed_to_tenants +(A-Fr)  fee_revenue:<line> +Fr  cash_clearing -A

When the store is the operator itself, the inter-company lines (the store's cash_clearing and
the operator's owed_to_tenants) fall away. Fees go to `fee_revenue:referral` unless the caller
splits them by service line with `fee_lines` (e.g. {"referral": ..., "order": ...}).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.errors import InvalidInput
from retailos.core.money import CurrencyMismatch, Money
from retailos.ledger.chart import SERVICE_LINES, fee_revenue
from retailos.ledger.models import JournalEntry
from retailos.ledger.service import LineDraft, post

SALE, REFUND, PROCESSING_COST = "sale", "refund", "processing_cost"


def _same_currency(*amounts: Money) -> str:
    currencies = {m.currency for m in amounts}
    if len(currencies) != 1:
        raise InvalidInput(f"amounts must share one currency, got {sorted(currencies)}",
                           field="currency")
    return currencies.pop()


def _split_fees(fees: Money, fee_lines: Mapping[str, Money] | None) -> dict[str, Money]:
    split = dict(fee_lines) if fee_lines is not None else {"referral": fees}
    unknown = sorted(set(split) - set(SERVICE_LINES))
    if unknown:
        raise InvalidInput(f"unknown service lines {unknown}; use {list(SERVICE_LINES)}",
                           field="fee_lines")
    try:
        total = sum(split.values(), Money.zero(fees.currency))
    except CurrencyMismatch as e:
        raise InvalidInput(str(e), field="fee_lines") from None
    if total != fees or any(m.amount < 0 for m in split.values()):
        raise InvalidInput("fee_lines must be non-negative and add up to fees", field="fee_lines")
    return split


def _drafts(rows: list[tuple[str, str, Money]]) -> list[LineDraft]:
    """Lines without the zero ones, merging repeated (tenant, account) pairs."""
    merged: dict[tuple[str, str], Money] = {}
    for tenant, account, amount in rows:
        key = (tenant, account)
        merged[key] = merged[key] + amount if key in merged else amount
    return [LineDraft(t, a, m) for (t, a), m in merged.items() if m.amount]


def _store_and_operator_lines(
    store: str, operator: str, store_rows: list[tuple[str, Money]],
    operator_rows: list[tuple[str, Money]], intercompany: Money,
) -> list[LineDraft]:
    rows = [(store, a, m) for a, m in store_rows] + [(operator, a, m) for a, m in operator_rows]
    if store != operator:
        rows += [(store, "cash_clearing", intercompany),
                 (operator, "owed_to_tenants", -intercompany)]
    return _drafts(rows)


def sale(
    session: Session, clock: Clock, *, store_tenant_id: str, operator_tenant_id: str, ref: str,
    gross: Money, tax: Money, fees: Money, fee_lines: Mapping[str, Money] | None = None,
    processing: Money | None = None,
) -> JournalEntry:
    """Money captured from a shopper for a store's order: cash in at the operator, revenue and
    tax payable for the store, platform fees charged to the store as fee revenue, and the
    processor's charge (if any) as the operator's expense."""
    processing = processing if processing is not None else Money.zero(gross.currency)
    _same_currency(gross, tax, fees, processing)
    if gross.amount <= 0:
        raise InvalidInput("a sale's gross amount must be positive", field="gross")
    if not 0 <= tax.amount <= gross.amount:
        raise InvalidInput("tax must be between zero and the gross amount", field="tax")
    if fees.amount < 0:
        raise InvalidInput("fees must not be negative", field="fees")
    if processing.amount < 0:
        raise InvalidInput("the processing cost must not be negative", field="processing")
    split = _split_fees(fees, fee_lines)
    lines = _store_and_operator_lines(
        store_tenant_id, operator_tenant_id,
        store_rows=[("platform_fees", fees), ("revenue", -(gross - tax)), ("tax_payable", -tax)],
        operator_rows=[("cash_clearing", gross - processing),
                       ("payment_processing", processing),
                       *((fee_revenue(line), -m) for line, m in split.items())],
        intercompany=gross - fees,
    )
    return post(session, clock, store_tenant_id, ref, SALE,
                f"sale {ref}: {gross} incl. tax {tax}, fees {fees}, processing {processing}",
                lines)


def refund(
    session: Session, clock: Clock, *, store_tenant_id: str, operator_tenant_id: str, ref: str,
    amount: Money, tax: Money, fees_returned: Money,
    fee_lines: Mapping[str, Money] | None = None,
) -> JournalEntry:
    """Money returned to a shopper (a cancel after capture, or a return): the sale's shape
    reversed for `amount`; `fees_returned` (may be zero) goes back to the store."""
    _same_currency(amount, tax, fees_returned)
    if amount.amount <= 0:
        raise InvalidInput("a refund's amount must be positive", field="amount")
    if not 0 <= tax.amount <= amount.amount:
        raise InvalidInput("tax must be between zero and the refunded amount", field="tax")
    if fees_returned.amount < 0:
        raise InvalidInput("fees_returned must not be negative", field="fees_returned")
    split = _split_fees(fees_returned, fee_lines)
    lines = _store_and_operator_lines(
        store_tenant_id, operator_tenant_id,
        store_rows=[("customer_refunds", amount - tax), ("tax_payable", tax),
                    ("platform_fees", -fees_returned)],
        operator_rows=[("cash_clearing", -amount),
                       *((fee_revenue(line), m) for line, m in split.items())],
        intercompany=-(amount - fees_returned),
    )
    return post(session, clock, store_tenant_id, ref, REFUND,
                f"refund {ref}: {amount} incl. tax {tax}, fees returned {fees_returned}", lines)


def processing_cost(
    session: Session, clock: Clock, *, operator_tenant_id: str, ref: str, amount: Money
) -> JournalEntry:
    """The payment processor kept `amount` of collected cash as its charge."""
    if amount.amount <= 0:
        raise InvalidInput("a processing cost must be positive", field="amount")
    lines = [LineDraft(operator_tenant_id, "payment_processing", amount),
             LineDraft(operator_tenant_id, "cash_clearing", -amount)]
    return post(session, clock, operator_tenant_id, ref, PROCESSING_COST,
                f"payment processing {ref}: {amount}", lines)


def proportional(part: Money, whole: Money, value: Money) -> Money:
    """`value * part / whole`, rounded half away from zero: the share of tax or fees that goes
    with refunding `part` of a `whole` sale."""
    _same_currency(part, whole, value)
    if whole.amount <= 0:
        raise InvalidInput("the whole must be positive", field="whole")
    num = value.amount * part.amount
    q, r = divmod(abs(num), whole.amount)
    if 2 * r >= whole.amount:
        q += 1
    return Money(q if num >= 0 else -q, value.currency)
