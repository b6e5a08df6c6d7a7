"""What the API shows of an order group and its orders: the rows, read together."""

from __future__ import annotations

from dataclasses import dataclass

from retailos.orders.models import Order, OrderGroup, OrderLine, Shipment


@dataclass(frozen=True)
class OrderView:
    order: Order
    lines: list[OrderLine]
    shipments: list[Shipment]


@dataclass(frozen=True)
class GroupView:
    group: OrderGroup
    orders: list[OrderView]
