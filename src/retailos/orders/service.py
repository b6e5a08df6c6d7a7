"""Orders after checkout: reading them, the state machine's moves, shipments, cancellations,
returns, the tax rate, and the asynchronous confirmation of a payment.

Every move locks the order's row first (SELECT ... FOR UPDATE; SQLite's BEGIN IMMEDIATE already
serialises writers), so two concurrent cancels cannot both refund. Refunds at the payment
provider are irreversible, so they are the last step of a move, after every change of ours is
flushed; their idempotency key is derived from the move, so a retry after a failed commit
reuses the refund the provider already made.

Money given back (cancel after capture, return): the refund includes the tax of what comes back,
computed cumulatively per line so that partial returns add up exactly to the whole; the referral
fee goes back to the seller in proportion to the goods returned (on a cancel, all fees do).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.errors import IllegalTransition, InvalidInput, NotFound
from retailos.core.ids import new_id
from retailos.core.money import Money
from retailos.core.pagination import paginate
from retailos.core.settings import get_settings
from retailos.inventory import service as inventory
from retailos.ledger import postings
from retailos.orders import checkout, events, states
from retailos.orders.models import (
    Order,
    OrderGroup,
    OrderLine,
    OrderReturn,
    ReturnLine,
    Shipment,
    TaxRate,
)
from retailos.orders.views import GroupView, OrderView
from retailos.payments import service as payments

MAX_TAX_BP = 10_000


# --- reading -----------------------------------------------------------------------------------


def _views(session: Session, tenant_id: str, orders: Sequence[Order]) -> list[OrderView]:
    """Orders with their lines and shipments: three queries for any number of orders."""
    ids = [o.id for o in orders]
    lines: dict[str, list[OrderLine]] = defaultdict(list)
    shipments: dict[str, list[Shipment]] = defaultdict(list)
    if ids:
        for line in session.scalars(select(OrderLine).where(
                OrderLine.tenant_id == tenant_id, OrderLine.order_id.in_(ids))
                .order_by(OrderLine.sku_id)):
            lines[line.order_id].append(line)
        for shipment in session.scalars(select(Shipment).where(
                Shipment.tenant_id == tenant_id, Shipment.order_id.in_(ids))
                .order_by(Shipment.id)):
            shipments[shipment.order_id].append(shipment)
    return [OrderView(o, lines[o.id], shipments[o.id]) for o in orders]


def get_order(session: Session, tenant_id: str, order_id: str) -> OrderView:
    return _views(session, tenant_id, [_order(session, tenant_id, order_id)])[0]


def get_group(session: Session, tenant_id: str, group_id: str) -> GroupView:
    group = session.get(OrderGroup, group_id)
    if group is None or group.tenant_id != tenant_id:
        raise NotFound(f"no order group {group_id}")
    return group_view(session, group)


def group_view(session: Session, group: OrderGroup) -> GroupView:
    orders = list(session.scalars(select(Order).where(
        Order.tenant_id == group.tenant_id, Order.group_id == group.id).order_by(Order.id)))
    return GroupView(group, _views(session, group.tenant_id, orders))


def list_orders(
    session: Session, tenant_id: str, status: str | None, cursor: str | None, limit: int
) -> tuple[list[OrderView], str | None]:
    stmt = select(Order).where(Order.tenant_id == tenant_id)
    if status is not None:
        if status not in states.STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(states.STATUSES)}",
                               field="status")
        stmt = stmt.where(Order.status == status)
    rows, next_cursor = paginate(session, stmt, Order.id, cursor, limit)
    return _views(session, tenant_id, list(rows)), next_cursor


def _order(session: Session, tenant_id: str, order_id: str, lock: bool = False) -> Order:
    stmt = select(Order).where(Order.tenant_id == tenant_id, Order.id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.scalars(stmt).first()
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def _move(session: Session, clock: Clock, order: Order, wanted: str) -> None:
    states.check_transition(order.id, order.status, wanted)
    now = clock.now()
    order.status = wanted
    order.updated_at = now
    stamp = {states.PAID: "paid_at", states.FULFILLED: "fulfilled_at",
             states.SHIPPED: "shipped_at", states.DELIVERED: "delivered_at",
             states.CANCELLED: "cancelled_at", states.RETURNED: "returned_at"}[wanted]
    setattr(order, stamp, now)


def _operator_id(session: Session, fallback: str) -> str:
    return checkout.operator_id(session, fallback)


# --- tax ---------------------------------------------------------------------------------------


def get_tax_rate(session: Session, clock: Clock, tenant_id: str) -> TaxRate:
    """The tenant's tax rate; a rate of 0 (not stored) when none was ever set."""
    rate = session.get(TaxRate, tenant_id)
    return rate or TaxRate(tenant_id=tenant_id, rate_bp=0, updated_at=clock.now())


def set_tax_rate(session: Session, clock: Clock, tenant_id: str, rate_bp: int) -> TaxRate:
    """Set the tenant's sales tax in basis points (0 to 10,000); later checkouts use it."""
    if not 0 <= rate_bp <= MAX_TAX_BP:
        raise InvalidInput(f"rate_bp must be between 0 and {MAX_TAX_BP}", field="rate_bp")
    rate = session.get(TaxRate, tenant_id)
    if rate is None:
        rate = TaxRate(tenant_id=tenant_id, rate_bp=rate_bp, updated_at=clock.now())
        session.add(rate)
    else:
        rate.rate_bp, rate.updated_at = rate_bp, clock.now()
    session.flush()
    return rate


# --- the state machine's moves -----------------------------------------------------------------


def fulfil_order(session: Session, clock: Clock, tenant_id: str, order_id: str) -> OrderView:
    order = _order(session, tenant_id, order_id, lock=True)
    _move(session, clock, order, states.FULFILLED)
    events.publish_order(session, clock, order)
    return get_order(session, tenant_id, order_id)


def ship_order(
    session: Session, clock: Clock, tenant_id: str, order_id: str,
    carrier: str | None = None, tracking_number: str | None = None,
) -> OrderView:
    """The order leaves in one shipment: its allocated stock leaves the shelves."""
    order = _order(session, tenant_id, order_id, lock=True)
    _move(session, clock, order, states.SHIPPED)
    shipment = Shipment(id=new_id("shp"), tenant_id=tenant_id, order_id=order.id,
                        status="shipped", carrier=carrier, tracking_number=tracking_number,
                        shipped_at=clock.now(), delivered_at=None)
    session.add(shipment)
    inventory.ship(session, clock, tenant_id, order.id)
    events.publish_order(session, clock, order, shipment_id=shipment.id)
    session.flush()
    return get_order(session, tenant_id, order_id)


def deliver_order(session: Session, clock: Clock, tenant_id: str, order_id: str) -> OrderView:
    order = _order(session, tenant_id, order_id, lock=True)
    _move(session, clock, order, states.DELIVERED)
    for shipment in session.scalars(select(Shipment).where(
            Shipment.tenant_id == tenant_id, Shipment.order_id == order.id,
            Shipment.status == "shipped")):
        shipment.status, shipment.delivered_at = "delivered", clock.now()
    events.publish_order(session, clock, order)
    session.flush()
    return get_order(session, tenant_id, order_id)


def cancel_order(
    session: Session, clock: Clock, tenant_id: str, order_id: str, reason: str = "cancelled"
) -> OrderView:
    """Cancel before shipment: the stock goes back, and the shopper's money too (a refund if it
    was captured, a void of the authorisation if no other order of the group still needs it)."""
    order = _order(session, tenant_id, order_id, lock=True)
    was_paid = order.status in (states.PAID, states.FULFILLED)
    _move(session, clock, order, states.CANCELLED)
    inventory.deallocate(session, clock, tenant_id, order.id)
    events.publish_order(session, clock, order, reason=reason)
    group = session.get(OrderGroup, order.group_id)
    assert group is not None and group.payment_id is not None
    if was_paid:
        amount = order.total - order.refunded
        if amount > 0:
            _give_back(session, clock, order, ref=f"{order.id}:cancel", amount=amount,
                       tax=order.tax - order.refunded_tax,
                       referral=order.fee_referral - order.fees_returned,
                       per_order=order.fee_per_order)
            session.flush()
            payments.refund(session, clock, tenant_id, group.payment_id,
                            Money(amount, order.currency), reason[:200] or "cancelled",
                            f"cancel:{order.id}")
    else:
        session.flush()
        live = session.scalar(select(Order.id).where(
            Order.tenant_id == tenant_id, Order.group_id == group.id,
            Order.status != states.CANCELLED).limit(1))
        if live is None and group.payment_status in ("authorized", "pending_confirmation"):
            payment = payments.void(session, clock, tenant_id, group.payment_id)
            group.payment_status = payment.status
    return get_order(session, tenant_id, order_id)


def _give_back(
    session: Session, clock: Clock, order: Order, *, ref: str, amount: int, tax: int,
    referral: int, per_order: int,
) -> None:
    """The ledger refund and the fees metered back for money returned to the shopper."""
    currency = order.currency
    order.refunded += amount
    order.refunded_tax += tax
    order.fees_returned += referral
    postings.refund(
        session, clock, store_tenant_id=order.seller_id,
        operator_tenant_id=_operator_id(session, order.tenant_id), ref=ref,
        amount=Money(amount, currency), tax=Money(tax, currency),
        fees_returned=Money(referral + per_order, currency),
        fee_lines=checkout.fee_lines(order, referral, per_order),
    )
    checkout.record_fee_usage(session, clock, order, ref, -1, referral, per_order)


# --- returns -----------------------------------------------------------------------------------


def _share(part: int, whole: int, value: int) -> int:
    """value x part / whole, rounded half away from zero."""
    q, r = divmod(value * part, whole)
    return q + 1 if 2 * r >= whole else q


def return_items(
    session: Session, clock: Clock, tenant_id: str, order_id: str,
    lines: Sequence[tuple[str, int]], reason: str, idempotency_key: str | None = None,
) -> OrderReturn:
    """Take back some or all of a shipped order's units: restock them and refund their price
    with its tax. The order becomes `returned` once every unit has come back."""
    order = _order(session, tenant_id, order_id, lock=True)
    if order.status not in states.RETURNABLE:
        raise IllegalTransition(
            f"order {order.id} is {order.status}; only shipped or delivered orders take returns",
            order_id=order.id, current_status=order.status)
    if not lines:
        raise InvalidInput("a return needs at least one line", field="lines")
    wanted: dict[str, int] = defaultdict(int)
    for sku_id, quantity in lines:
        if quantity < 1:
            raise InvalidInput("quantities must be positive", field="lines")
        wanted[sku_id] += quantity
    by_sku = {x.sku_id: x for x in get_order(session, tenant_id, order.id).lines}
    for sku_id, quantity in wanted.items():
        line = by_sku.get(sku_id)
        if line is None:
            raise InvalidInput(f"{sku_id} is not in order {order.id}", field="lines",
                               sku_id=sku_id)
        if quantity > line.quantity - line.returned_quantity:
            raise InvalidInput(
                f"only {line.quantity - line.returned_quantity} of {sku_id} can come back",
                field="lines", sku_id=sku_id)
    ret = OrderReturn(id=new_id("ret"), tenant_id=tenant_id, order_id=order.id,
                      reason=reason[:500], currency=order.currency, amount=0, tax=0,
                      fees_returned=0, refund_id=None, created_at=clock.now())
    session.add(ret)
    returned_before = sum(x.unit_price * x.returned_quantity for x in by_sku.values())
    for sku_id, quantity in sorted(wanted.items()):
        line = by_sku[sku_id]
        before, after = line.returned_quantity, line.returned_quantity + quantity
        tax = _share(after, line.quantity, line.tax) - _share(before, line.quantity, line.tax)
        amount = line.unit_price * quantity
        line.returned_quantity = after
        ret.amount += amount + tax
        ret.tax += tax
        session.add(ReturnLine(id=new_id("rtl"), tenant_id=tenant_id, return_id=ret.id,
                               order_line_id=line.id, sku_id=sku_id, quantity=quantity,
                               amount=amount + tax, tax=tax))
        inventory.restock(session, clock, tenant_id, sku_id, quantity, ret.id)
    returned_after = sum(x.unit_price * x.returned_quantity for x in by_sku.values())
    if order.subtotal:
        ret.fees_returned = (_share(returned_after, order.subtotal, order.fee_referral)
                             - _share(returned_before, order.subtotal, order.fee_referral))
    if ret.amount > 0:
        _give_back(session, clock, order, ref=ret.id, amount=ret.amount, tax=ret.tax,
                   referral=ret.fees_returned, per_order=0)
    complete = all(x.returned_quantity == x.quantity for x in by_sku.values())
    if complete:
        _move(session, clock, order, states.RETURNED)
    else:
        order.updated_at = clock.now()
    events.outbox.publish(session, clock, tenant_id, events.ORDER_RETURNED, events.order_payload(
        order, return_id=ret.id, amount=ret.amount, complete=complete))
    session.flush()
    group = session.get(OrderGroup, order.group_id)
    if ret.amount > 0 and group is not None and group.payment_id is not None:
        refund = payments.refund(session, clock, tenant_id, group.payment_id,
                                 Money(ret.amount, order.currency), reason[:200] or "return",
                                 _refund_key(tenant_id, idempotency_key, ret.id))
        ret.refund_id = refund.id
    return ret


def _refund_key(tenant_id: str, idempotency_key: str | None, return_id: str) -> str:
    """The refund's key: from the client's Idempotency-Key (hashed to a fixed length), so the
    retry of a return whose commit failed gets the refund already made."""
    if idempotency_key is None:
        return f"return:{return_id}"
    digest = hashlib.sha256(f"{tenant_id}\x1f{idempotency_key}".encode()).hexdigest()[:40]
    return f"return:{digest}"


def list_returns(session: Session, tenant_id: str, order_id: str) -> list[OrderReturn]:
    _order(session, tenant_id, order_id)
    return list(session.scalars(select(OrderReturn).where(
        OrderReturn.tenant_id == tenant_id, OrderReturn.order_id == order_id)
        .order_by(OrderReturn.id)))


# --- asynchronous payment confirmation ---------------------------------------------------------


def _group_of_payment(session: Session, tenant_id: str, payment_id: str) -> OrderGroup | None:
    return session.scalars(select(OrderGroup).where(
        OrderGroup.tenant_id == tenant_id, OrderGroup.payment_id == payment_id)
        .with_for_update()).first()


def _placed_orders(session: Session, group: OrderGroup) -> list[Order]:
    return list(session.scalars(select(Order).where(
        Order.tenant_id == group.tenant_id, Order.group_id == group.id,
        Order.status == states.PLACED).order_by(Order.id).with_for_update()))


def on_payment_authorized(
    session: Session, clock: Clock, tenant_id: str, payment_id: str
) -> OrderGroup | None:
    """A pending authorisation was confirmed (outbox event `payment.authorized`): capture what
    the group's live orders cost, mark them paid and post their sales. Idempotent: a group
    already captured, or a payment that is no group's, is left alone."""
    group = _group_of_payment(session, tenant_id, payment_id)
    if group is None or group.payment_status not in ("pending_confirmation", "authorized"):
        return group
    orders = _placed_orders(session, group)
    if not orders:  # every order was cancelled while the payment waited
        group.payment_status = payments.void(session, clock, tenant_id, payment_id).status
        return group
    amount = Money(sum(o.total for o in orders), group.currency)
    payment = payments.capture(session, clock, tenant_id, payment_id, amount)
    group.payment_status = payment.status
    operator_id = _operator_id(session, tenant_id)
    shares = checkout.processing_shares(payment.processing_fee, orders)
    for order, processing in zip(orders, shares, strict=True):
        _move(session, clock, order, states.PAID)
        checkout.record_sale(session, clock, operator_id, order, processing)
        events.publish_order(session, clock, order)
    session.flush()
    return group


def on_payment_failed(
    session: Session, clock: Clock, tenant_id: str, payment_id: str
) -> OrderGroup | None:
    """A pending authorisation failed (outbox event `payment.failed`): the group's unpaid orders
    are cancelled and their stock goes back. Idempotent."""
    group = _group_of_payment(session, tenant_id, payment_id)
    if group is None:
        return None
    for order in _placed_orders(session, group):
        _move(session, clock, order, states.CANCELLED)
        inventory.deallocate(session, clock, tenant_id, order.id)
        events.publish_order(session, clock, order, reason="payment failed")
    group.payment_status = "failed"
    session.flush()
    return group


def on_payment_event(
    session: Session, clock: Clock, tenant_id: str, type: str, payload: Mapping[str, Any]
) -> OrderGroup | None:
    """The outbox hook for payments' events: `payment.authorized` captures and pays the group,
    `payment.failed` cancels its unpaid orders; other events and other payments are ignored."""
    payment_id = payload.get("payment_id")
    if not isinstance(payment_id, str):
        return None
    if type == "payment.authorized":
        return on_payment_authorized(session, clock, tenant_id, payment_id)
    if type == "payment.failed":
        return on_payment_failed(session, clock, tenant_id, payment_id)
    return None


def cancel_unconfirmed(
    session: Session, clock: Clock, older_than: timedelta = timedelta(hours=1), limit: int = 100
) -> int:
    """Cancel orders whose payment still awaits the cardholder's confirmation after
    `older_than` (of every tenant, oldest first, at most `limit`): their stock goes back and the
    authorisation is voided. For a periodic worker; returns how many were cancelled."""
    cutoff = clock.now() - older_than
    stale = list(session.execute(
        select(Order.tenant_id, Order.id)
        .join(OrderGroup, OrderGroup.id == Order.group_id)
        .where(Order.status == states.PLACED, OrderGroup.payment_status == "pending_confirmation",
               Order.created_at <= cutoff)
        .order_by(Order.id).limit(limit)
    ))
    for tenant_id, order_id in stale:
        cancel_order(session, clock, tenant_id, order_id, "payment not confirmed in time")
    return len(stale)


def settle_abandoned_checkouts(
    session: Session, clock: Clock, within: timedelta = timedelta(hours=1)
) -> int:
    """Void or refund what the provider holds for checkouts that never committed (see
    `payments.settle_orphaned_charges`), once they are older than a stock hold lives, and book
    the fee a processor kept on a refunded capture as the operator's processing cost. For a
    periodic worker that runs more often than `within`; returns how many charges it settled."""
    settled = payments.settle_orphaned_charges(
        session, clock, older_than=timedelta(minutes=get_settings().reservation_minutes),
        within=within)
    for payment in settled:
        if payment.processing_fee:
            postings.processing_cost(
                session, clock, operator_tenant_id=_operator_id(session, payment.tenant_id),
                ref=payment.id, amount=Money(payment.processing_fee, payment.currency))
    return len(settled)
