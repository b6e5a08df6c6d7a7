"""Checkout: a cart (or a one-shot basket) becomes an order group split into one order per seller.

The steps, each undone by its compensation if a later one fails (see `workflow`):

1. price       lines priced by the catalogue now, never by the client; tax; platform fees
2. claim       the order group is inserted first (its orders and lines are built, and written
               at step 5): the unique (tenant, Idempotency-Key) and (tenant, cart) rows make a
               concurrent replay wait here and then find the first result, before it could
               charge anything
3. reserve     a short stock hold, all or nothing, committed      undo: release the hold
               at once in a transaction of its own
4. authorise   the provider authorises the total, and captures   undo: void the authorisation,
               it at once unless the card awaits confirmation          or refund the capture
5. publish     orders and lines with their final status; order_group.created, order.placed
               (and order.paid) to the outbox
6. allocate    the hold becomes allocations to the orders
7. post        the ledger sale and billing usage per paid order
8. flush       every row reaches the database inside the workflow, so a constraint failure is
               still compensated; what is left is the commit itself

Database steps need no compensation of their own: the request's unit of work rolls them back
with the failure. The provider is outside our transaction, so step 4 undoes itself, and so is
the hold: it commits on its own (`core.db.autonomous`) so that no row lock on popular stock is
held while the provider answers, which can take seconds. Every lock on shared rows (stock,
ledger balances) is taken in the last steps, just before the commit. A hold left by a crash
expires (`inventory.expire_holds`).
The authorisation's idempotency key is derived from the checkout's Idempotency-Key, so a retry
after a crash (or a failed commit) reuses the same authorisation instead of charging twice.
The statement count does not depend on the number of lines: every step works on all lines at once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from retailos.billing import service as billing
from retailos.catalog import service as catalog
from retailos.catalog.service import SaleableVariant
from retailos.core import outbox
from retailos.core.clock import Clock
from retailos.core.db import autonomous, insert_once, insert_rows, update_row
from retailos.core.errors import Conflict, InvalidInput
from retailos.core.ids import new_id
from retailos.core.money import Money
from retailos.core.settings import get_settings
from retailos.inventory import service as inventory
from retailos.ledger import postings
from retailos.orders import carts, events, states
from retailos.orders.models import Cart, Order, OrderGroup, OrderLine, TaxRate
from retailos.orders.views import GroupView, OrderView
from retailos.orders.workflow import Step, Workflow
from retailos.payments import service as payments
from retailos.tenants.service import operator_tenant

MAX_LINES = carts.MAX_LINES
# How many voided authorisations under one checkout key a retry walks past before giving up.
MAX_AUTHORISATION_ATTEMPTS = 5


@dataclass(frozen=True)
class Customer:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    currency: str
    lines: Sequence[tuple[str, int]]  # (sku_id, quantity)
    card_number: str
    customer: Customer
    idempotency_key: str | None = None
    cart_id: str | None = None


@dataclass
class CheckoutState:
    """What the steps share: the request, and what each step produced."""

    session: Session
    clock: Clock
    tenant_id: str
    request: CheckoutRequest
    quantities: dict[str, int] = field(default_factory=dict)
    priced: dict[str, SaleableVariant] = field(default_factory=dict)
    tax_rate_bp: int = 0
    operator_id: str = ""
    group: OrderGroup | None = None
    orders: list[Order] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    cart: Cart | None = None
    hold_id: str | None = None
    payment_id: str | None = None
    payment_status: str = "none"
    captured: bool = False
    processing_fee: int = 0  # what the processor kept of the capture


@dataclass(frozen=True)
class CheckoutResult:
    group: OrderGroup
    created: bool  # False: an earlier checkout with the same key or cart answered
    view: GroupView | None = None  # what was written, when created


class _AlreadyCheckedOut(Exception):
    def __init__(self, group: OrderGroup) -> None:
        super().__init__(group.id)
        self.group = group


def tax_rate(session: Session, tenant_id: str) -> int:
    """The tenant's sales tax in basis points; 0 when none is set."""
    rate = session.scalar(_TAX_RATE, {"tenant": tenant_id})
    return int(rate or 0)


# Built once: every checkout reads it, and building a select() costs more than running it.
_TAX_RATE = select(TaxRate.rate_bp).where(TaxRate.tenant_id == bindparam("tenant"))


def merged_lines(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Quantities per sku, a sku named twice counted once; 422 for an empty basket."""
    if not lines:
        raise InvalidInput("the cart is empty; add lines before checking out", field="lines")
    merged: dict[str, int] = defaultdict(int)
    for sku_id, quantity in lines:
        carts.checked_quantity(quantity)
        merged[sku_id] += quantity
    if len(merged) > MAX_LINES:
        raise InvalidInput(f"a checkout holds at most {MAX_LINES} lines", field="lines")
    for sku_id, quantity in merged.items():
        carts.checked_quantity(quantity, field=f"lines.{sku_id}")
    return dict(merged)


# --- steps -------------------------------------------------------------------------------------


def price_lines(st: CheckoutState) -> None:
    st.quantities = merged_lines(st.request.lines)
    currency = carts.checked_currency(st.request.currency)
    st.priced = catalog.variants_for_sale(st.session, st.tenant_id, list(st.quantities), currency)
    missing = sorted(set(st.quantities) - set(st.priced))
    if missing:
        raise InvalidInput(f"not for sale in {currency}: {', '.join(missing)}",
                           field="lines", skus=missing)
    st.tax_rate_bp = tax_rate(st.session, st.tenant_id)
    st.operator_id = operator_id(st.session, st.tenant_id)


# The operator tenant never changes once it exists: remembered per database, so a checkout does
# not ask for it again. Only a found operator is remembered.
_operators: dict[str, str] = {}


def operator_id(session: Session, fallback: str) -> str:
    """The platform operator's tenant id; without one, the store is its own platform."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    found = _operators.get(database)
    if found is None:
        operator = operator_tenant(session)
        if operator is None:
            return fallback
        found = _operators[database] = operator.id
    return found


def seller_of(tenant_id: str, variant: SaleableVariant) -> str:
    """Who sells a line. Stage 1: the store itself; stage 2 reads it from the winning offer."""
    return tenant_id


def create_order_group(st: CheckoutState) -> None:
    req, now = st.request, st.clock.now()
    currency = req.currency
    group = OrderGroup(
        id=new_id("ogr"), tenant_id=st.tenant_id, idempotency_key=req.idempotency_key,
        cart_id=req.cart_id, currency=currency, customer_email=req.customer.email,
        customer_name=req.customer.name, subtotal=0, tax=0, total=0,
        tax_rate_bp=st.tax_rate_bp, payment_id=None, payment_status="none",
        created_at=now,
    )
    by_seller: dict[str, list[str]] = defaultdict(list)
    for sku_id in sorted(st.quantities):
        by_seller[seller_of(st.tenant_id, st.priced[sku_id])].append(sku_id)
    for seller_id, sku_ids in sorted(by_seller.items()):
        order_id = new_id("ord")
        lines = []
        for sku_id in sku_ids:
            variant, quantity = st.priced[sku_id], st.quantities[sku_id]
            subtotal = variant.unit_price * quantity
            lines.append(OrderLine(
                id=new_id("oli"), tenant_id=st.tenant_id, order_id=order_id,
                seller_id=seller_id, sku_id=sku_id, sku=variant.sku, title=variant.title[:300],
                quantity=quantity, currency=currency, unit_price=variant.unit_price.amount,
                subtotal=subtotal.amount, tax=subtotal.percent_of(st.tax_rate_bp).amount,
                returned_quantity=0,
            ))
        fees = billing.quote_order_fees(
            st.session, seller_id,
            [(x.quantity, Money(x.unit_price, currency)) for x in lines], at=now,
        )
        subtotal_amount = sum(x.subtotal for x in lines)
        tax_amount = sum(x.tax for x in lines)
        order = Order(
            id=order_id, tenant_id=st.tenant_id, group_id=group.id, seller_id=seller_id,
            status=states.PLACED, currency=currency, subtotal=subtotal_amount, tax=tax_amount,
            total=subtotal_amount + tax_amount, fee_referral=fees.referral.amount,
            fee_per_order=fees.per_order.amount, fee_total=fees.total.amount,
            refunded=0, refunded_tax=0, fees_returned=0, created_at=now, updated_at=now,
        )
        st.orders.append(order)
        st.lines.extend(lines)
    group.subtotal = sum(o.subtotal for o in st.orders)
    group.tax = sum(o.tax for o in st.orders)
    group.total = sum(o.total for o in st.orders)
    st.group = group
    if not insert_once(st.session, group):  # claim the key and the cart before anything else
        existing = _existing_group(st.session, st.tenant_id, req.idempotency_key, req.cart_id)
        if existing is None:
            raise Conflict("a concurrent checkout of this cart or key failed; retry")
        raise _AlreadyCheckedOut(existing)
    # Orders and lines are written with the events, once their status is known: no updates.


def _existing_group(
    session: Session, tenant_id: str, key: str | None, cart_id: str | None
) -> OrderGroup | None:
    for column, value in ((OrderGroup.idempotency_key, key), (OrderGroup.cart_id, cart_id)):
        if value is not None:
            found = session.scalars(select(OrderGroup).where(
                OrderGroup.tenant_id == tenant_id, column == value)).first()
            if found is not None:
                return found
    return None


def reserve_stock(st: CheckoutState) -> None:
    assert st.group is not None
    ttl = timedelta(minutes=get_settings().reservation_minutes)
    with autonomous(st.session) as own:
        st.hold_id = inventory.reserve(own, st.clock, st.tenant_id,
                                       sorted(st.quantities.items()), st.group.id, ttl)


def release_stock(st: CheckoutState) -> None:
    """Give the hold back. The request's transaction fails with the step, so it is rolled back
    first: its allocation may hold the very stock rows the release must lock. (On SQLite the
    hold was part of that transaction and is gone with it.) The last compensation to run."""
    if st.hold_id is None:
        return
    st.session.rollback()
    with autonomous(st.session) as own:
        inventory.release(own, st.clock, st.tenant_id, st.hold_id)


def allocate_stock(st: CheckoutState) -> None:
    assert st.hold_id is not None
    order_of = {x.sku_id: x.order_id for x in st.lines}
    inventory.allocate(st.session, st.clock, st.tenant_id, st.hold_id, order_of)


def authorisation_key(tenant_id: str, checkout_key: str, attempt: int) -> str:
    """The provider idempotency key of a checkout's authorisation: the same for a replay."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{checkout_key}".encode()).hexdigest()[:40]
    return f"checkout:{digest}" + (f":{attempt}" if attempt else "")


def _not_capturable(problem: Conflict) -> bool:
    return problem.extensions.get("provider_code") == "charge_not_capturable"


def authorise_payment(st: CheckoutState) -> None:
    """Authorise the group's total and, when the card needs no confirmation, capture it.

    A replay reuses the authorisation made under the same checkout key. If that authorisation
    was voided by the compensation of an earlier failed attempt, the provider refuses to capture
    it; it is voided here (a no-op) and the next key of a deterministic chain is tried, which a
    later replay walks the same way. A charge the provider already captured cannot be voided:
    that raises rather than charging twice.
    """
    assert st.group is not None
    # The payment's events wait in the session, to be written with ours in one statement.
    with st.session.no_autoflush:
        _authorise_and_capture(st)


def _authorise_and_capture(st: CheckoutState) -> None:
    assert st.group is not None
    # A cart is checked out once, so without an Idempotency-Key the cart itself is the key.
    cart_key = f"cart:{st.request.cart_id}" if st.request.cart_id else None
    key = st.request.idempotency_key or cart_key or st.group.id
    amount = Money(st.group.total, st.group.currency)
    for attempt in range(MAX_AUTHORISATION_ATTEMPTS):
        payment = payments.authorize(
            st.session, st.clock, st.tenant_id, st.group.id, amount, st.request.card_number,
            authorisation_key(st.tenant_id, key, attempt),
        )
        st.payment_id, st.payment_status = payment.id, payment.status
        if payment.status != "authorized":
            return  # pending confirmation: captured when `payment.authorized` arrives
        try:
            payment = payments.capture(st.session, st.clock, st.tenant_id, payment.id)
        except Conflict as problem:
            if not _not_capturable(problem):
                void_payment(st)
                raise
            void_payment(st)  # IllegalTransition if it was captured: never charge twice
            continue
        except BaseException:
            void_payment(st)
            raise
        st.captured, st.payment_status = True, payment.status
        st.processing_fee = payment.processing_fee
        return
    raise Conflict("this checkout's earlier authorisations were voided; retry with a new "
                   "Idempotency-Key")


def void_payment(st: CheckoutState) -> None:
    if st.payment_id is not None:
        payments.void(st.session, st.clock, st.tenant_id, st.payment_id)


def undo_payment(st: CheckoutState) -> None:
    """Compensation of `authorise`: void the authorisation, or refund the capture in full."""
    if st.payment_id is None or st.group is None:
        return
    if st.captured:
        payments.refund(st.session, st.clock, st.tenant_id, st.payment_id,
                        Money(st.group.total, st.group.currency), "checkout failed",
                        f"undo:{st.payment_id}")
    else:
        void_payment(st)


def post_sale(st: CheckoutState) -> None:
    """The ledger sale and metered fees of each order paid at checkout."""
    paid = [order for order in st.orders if order.status == states.PAID]
    for order, processing in zip(paid, processing_shares(st.processing_fee, paid), strict=True):
        record_sale(st.session, st.clock, st.operator_id, order, processing)


def processing_shares(fee: int, orders: Sequence[Order]) -> list[int]:
    """The processor's charge on a group's capture split over the orders it paid, by their
    totals (the last takes what rounding leaves), so each order's sale carries its share."""
    if not orders:
        return []
    whole = sum(order.total for order in orders)
    shares = [fee * order.total // whole for order in orders[:-1]]
    return [*shares, fee - sum(shares)]


def record_sale(
    session: Session, clock: Clock, operator_id: str, order: Order, processing: int
) -> None:
    """The ledger sale (with the processor's charge for it) and the metered fee of one paid
    order."""
    currency = order.currency
    fees = Money(order.fee_total, currency)
    postings.sale(
        session, clock, store_tenant_id=order.seller_id, operator_tenant_id=operator_id,
        ref=order.id, gross=Money(order.total, currency), tax=Money(order.tax, currency),
        fees=fees, fee_lines=fee_lines(order), processing=Money(processing, currency),
    )
    record_fee_usage(session, clock, order, order.id, 1, order.fee_referral, order.fee_per_order)


def record_fee_usage(
    session: Session, clock: Clock, order: Order, ref: str, sign: int, referral: int,
    per_order: int,
) -> None:
    """Meter the fees charged (sign 1) or given back (sign -1) for `ref`, per service line."""
    for service, amount in (("referral", referral), ("order", per_order)):
        if amount:
            billing.record_usage(session, clock, order.seller_id, service, sign,
                                 Money(sign * amount, order.currency), ref)


def fee_lines(order: Order, referral: int | None = None, per_order: int | None = None
              ) -> dict[str, Money]:
    return {"referral": Money(order.fee_referral if referral is None else referral,
                              order.currency),
            "order": Money(order.fee_per_order if per_order is None else per_order,
                           order.currency)}


def publish_events(st: CheckoutState) -> None:
    """Orders and lines are written with their final status, and the events with the payment's
    own: one INSERT per table for any number of lines, and no UPDATE per order."""
    assert st.group is not None
    update_row(st.session, st.group, payment_id=st.payment_id, payment_status=st.payment_status)
    if st.captured:
        now = st.clock.now()
        for order in st.orders:
            order.status, order.paid_at, order.updated_at = states.PAID, now, now
    insert_rows(st.session, [*st.orders, *st.lines])
    if st.cart is not None:
        carts.mark_checked_out(st.cart, st.clock, st.group.id)
    events.publish_group(st.session, st.clock, st.group, [o.id for o in st.orders])
    for order in st.orders:
        outbox.publish(st.session, st.clock, order.tenant_id, events.ORDER_PLACED,
                       events.order_payload(order, status=states.PLACED))
        if order.status == states.PAID:
            events.publish_order(st.session, st.clock, order)
    outbox.write_pending(st.session)


def flush(st: CheckoutState) -> None:
    st.session.flush()


def workflow() -> Workflow[CheckoutState]:
    """Built per call from the module's step functions, so tests can make any step fail."""
    return Workflow("checkout", [
        Step("price", price_lines),
        Step("claim", create_order_group),
        Step("reserve", reserve_stock, release_stock),
        Step("authorise", authorise_payment, undo_payment),
        Step("publish", publish_events),
        Step("allocate", allocate_stock),
        Step("post", post_sale),
        Step("flush", flush),
    ])


def checkout(
    session: Session, clock: Clock, tenant_id: str, request: CheckoutRequest,
    cart: Cart | None = None,
) -> CheckoutResult:
    """Place the order group for `request`, or return the one an earlier checkout with the same
    Idempotency-Key (or cart) placed: the claim step finds it without charging anything."""
    state = CheckoutState(session, clock, tenant_id, request, cart=cart)
    try:
        workflow().run(state)
    except _AlreadyCheckedOut as replay:
        return CheckoutResult(replay.group, created=False)
    assert state.group is not None
    lines: dict[str, list[OrderLine]] = defaultdict(list)
    for line in state.lines:
        lines[line.order_id].append(line)
    view = GroupView(state.group, [OrderView(o, lines[o.id], []) for o in state.orders])
    return CheckoutResult(state.group, created=True, view=view)


def checkout_cart(
    session: Session, clock: Clock, tenant_id: str, cart_id: str, card_number: str,
    customer: Customer, idempotency_key: str | None = None,
) -> CheckoutResult:
    cart = carts.get_cart(session, tenant_id, cart_id)
    if cart.status != "open" and cart.order_group_id is not None:
        existing = _existing_group(session, tenant_id, None, cart.id)
        if existing is not None:
            return CheckoutResult(existing, created=False)
    lines = carts.cart_lines(session, tenant_id, cart_id)
    result = checkout(session, clock, tenant_id, CheckoutRequest(
        currency=cart.currency, lines=[(x.sku_id, x.quantity) for x in lines],
        card_number=card_number, customer=customer, idempotency_key=idempotency_key,
        cart_id=cart.id,
    ), cart=cart)
    return result
