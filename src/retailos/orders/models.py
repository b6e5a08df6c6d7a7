"""Carts, order groups, orders per seller, their lines, shipments, returns and tax rates.

A checkout turns a cart into one order group (what the shopper paid for, once) that splits into one
order per seller (what each seller must fulfil); an order later leaves in one or more shipments.
Money is frozen on the rows at sale time: unit prices, tax and the platform's fees.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailos.core.db import Base, id_column, tenant_column


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, checked_out
    order_group_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("tenant_id", "cart_id", "sku_id"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id"), index=True)
    sku_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    created_at: Mapped[datetime]


class OrderGroup(Base):
    """One checkout: the shopper's single payment, split into one order per seller."""

    __tablename__ = "order_groups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        UniqueConstraint("tenant_id", "cart_id"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    cart_id: Mapped[str | None] = mapped_column(String(40), default=None)
    currency: Mapped[str] = mapped_column(String(3))
    customer_email: Mapped[str] = mapped_column(String(320))
    customer_name: Mapped[str | None] = mapped_column(String(200), default=None)
    subtotal: Mapped[int]
    tax: Mapped[int]
    total: Mapped[int]
    tax_rate_bp: Mapped[int]
    payment_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    # authorized, pending_confirmation, captured, voided
    payment_status: Mapped[str] = mapped_column(String(30), default="none")
    created_at: Mapped[datetime]


class Order(Base):
    """What one seller owes the shopper out of an order group."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_tenant_status_id", "tenant_id", "status", "id"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    group_id: Mapped[str] = mapped_column(ForeignKey("order_groups.id"), index=True)
    seller_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int]
    tax: Mapped[int]
    total: Mapped[int]
    # platform fees frozen at sale time (billing.quote_order_fees)
    fee_referral: Mapped[int]
    fee_per_order: Mapped[int]
    fee_total: Mapped[int]
    refunded: Mapped[int] = mapped_column(default=0)
    refunded_tax: Mapped[int] = mapped_column(default=0)
    fees_returned: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    fulfilled_at: Mapped[datetime | None] = mapped_column(default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    returned_at: Mapped[datetime | None] = mapped_column(default=None)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    seller_id: Mapped[str] = mapped_column(String(40))
    sku_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[int]
    subtotal: Mapped[int]
    tax: Mapped[int]
    returned_quantity: Mapped[int] = mapped_column(default=0)


class Shipment(Base):
    """A parcel that left for the shopper; an order ships in one or more of them."""

    __tablename__ = "shipments"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # shipped, delivered
    carrier: Mapped[str | None] = mapped_column(String(100), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(100), default=None)
    shipped_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class OrderReturn(Base):
    __tablename__ = "order_returns"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]  # refunded, tax included
    tax: Mapped[int]
    fees_returned: Mapped[int]
    refund_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime]


class ReturnLine(Base):
    __tablename__ = "order_return_lines"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    return_id: Mapped[str] = mapped_column(ForeignKey("order_returns.id"), index=True)
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id"))
    sku_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    amount: Mapped[int]
    tax: Mapped[int]


class TaxRate(Base):
    """A tenant's sales tax in basis points (825 = 8.25 %), applied to every line; 0 if absent."""

    __tablename__ = "tax_rates"

    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rate_bp: Mapped[int]
    updated_at: Mapped[datetime]
