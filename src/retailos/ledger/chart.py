"""The chart of accounts: a fixed list of codes, each with a normal side and a P&L role.

Accounts are keyed (tenant_id, code, currency) and created on first use. Amounts are signed:
a debit is positive, a credit negative, so every entry's lines sum to zero and the balance of a
debit-normal account is positive in the usual case, of a credit-normal account negative.

The platform (the operator tenant) collects shoppers' payments for the stores it hosts and keeps
its fees, like a marketplace. Each tenant keeps complete double-entry books of its own, and the
two sides meet in inter-company accounts (a store's `cash_clearing` is mirrored by the operator's
`owed_to_tenants`), so every entry balances for each tenant it touches, not only in total.

A store tenant (retailer, seller, partner store):

| code | side | kind | meaning |
|---|---|---|---|
| cash_clearing | debit | asset | shoppers' money the platform holds for it, not yet paid out |
| revenue | credit | income | sales, net of tax |
| tax_payable | credit | liability | sales tax collected, owed to the tax authority |
| customer_refunds | debit | contra-income | money returned to shoppers, net of tax |
| platform_fees | debit | expense | fees the platform charged the store |

The operator tenant:

| code | side | kind | meaning |
|---|---|---|---|
| cash_clearing | debit | asset | shoppers' money collected, at the payment processor or bank |
| owed_to_tenants | credit | liability | money that belongs to stores (negative: stores owe) |
| fee_revenue:<line> | credit | income | fees per service line (referral, order, ...) |
| payment_processing | debit | expense | the payment processor's charges |

When the operator sells its own stock (stage 1, the general store) it is also the store: the
inter-company lines fall away and its own fees show as fee revenue and platform_fees expense.
"""

from __future__ import annotations

from dataclasses import dataclass

DEBIT, CREDIT = "debit", "credit"

SERVICE_LINES = ("referral", "order", "fulfillment", "walkout")
FEE_REVENUE = "fee_revenue"


@dataclass(frozen=True)
class AccountType:
    code: str
    normal_side: str  # debit or credit
    kind: str  # asset, liability, income, contra_income, expense
    pnl_line: str | None  # the P&L row an income or expense account rolls up into


def fee_revenue(service_line: str) -> str:
    return f"{FEE_REVENUE}:{service_line}"


_TYPES = [
    AccountType("cash_clearing", DEBIT, "asset", None),
    AccountType("revenue", CREDIT, "income", "retail"),
    AccountType("tax_payable", CREDIT, "liability", None),
    AccountType("customer_refunds", DEBIT, "contra_income", "retail"),
    AccountType("platform_fees", DEBIT, "expense", "platform_fees"),
    AccountType("owed_to_tenants", CREDIT, "liability", None),
    AccountType("payment_processing", DEBIT, "expense", "payment_processing"),
    *(AccountType(fee_revenue(line), CREDIT, "income", line) for line in SERVICE_LINES),
]

CHART: dict[str, AccountType] = {t.code: t for t in _TYPES}
