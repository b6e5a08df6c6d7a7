"""Order events, published to the outbox in the transaction of the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from retailos.core import outbox
from retailos.core.clock import Clock
from retailos.orders.models import Order, OrderGroup

ORDER_GROUP_CREATED = "order_group.created"
ORDER_PLACED = "order.placed"
ORDER_PAID = "order.paid"
ORDER_FULFILLED = "order.fulfilled"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"
ORDER_DELIVERED = "order.delivered"
ORDER_RETURNED = "order.returned"

# The event an order's arrival in a status publishes.
BY_STATUS = {
    "placed": ORDER_PLACED, "paid": ORDER_PAID, "fulfilled": ORDER_FULFILLED,
    "shipped": ORDER_SHIPPED, "delivered": ORDER_DELIVERED, "cancelled": ORDER_CANCELLED,
    "returned": ORDER_RETURNED,
}


def order_payload(order: Order, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order.id, "group_id": order.group_id, "seller_id": order.seller_id,
        "status": order.status, "currency": order.currency, "total": order.total, **extra,
    }


def group_payload(group: OrderGroup, order_ids: list[str]) -> dict[str, Any]:
    return {
        "group_id": group.id, "currency": group.currency, "total": group.total,
        "order_ids": order_ids, "payment_id": group.payment_id,
        "payment_status": group.payment_status,
    }


def publish_order(session: Session, clock: Clock, order: Order, **extra: Any) -> None:
    outbox.publish(session, clock, order.tenant_id, BY_STATUS[order.status],
                   order_payload(order, **extra))


def publish_group(session: Session, clock: Clock, group: OrderGroup, order_ids: list[str]) -> None:
    outbox.publish(session, clock, group.tenant_id, ORDER_GROUP_CREATED,
                   group_payload(group, order_ids))
