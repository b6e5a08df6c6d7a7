"""Inventory tables: locations, stock rows, the append-only movement history and holds.

A stock row's `tenant_id` is the OWNER of the units; `location_id` is where they are, which may
later belong to another tenant (fulfilment as a service). on_hand is recomputable from the
movements; reserved and allocated are recomputable from the open hold lines.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailos.core.db import Base, id_column, tenant_column

LOCATION_KINDS = ("warehouse", "fulfilment_centre", "store", "shelf")
MOVEMENT_KINDS = ("receive", "adjust", "ship", "return", "transfer")
ADJUST_REASONS = ("damaged", "lost", "found", "count_correction", "expired", "other")
HOLD_STATUSES = ("active", "allocated", "released", "expired")
# A hold line counts as reserved while `reserved`, as allocated while `allocated`; the rest are
# history: released or expired (reservation given back), deallocated (order cancelled), shipped.
LINE_STATUSES = ("reserved", "allocated", "released", "expired", "deallocated", "shipped")


class Location(Base):
    __tablename__ = "inventory_locations"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("inventory_locations.id"), default=None
    )
    created_at: Mapped[datetime]


class Stock(Base):
    __tablename__ = "inventory_stock"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku_id", "location_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        CheckConstraint("on_hand - allocated - reserved >= 0", name="available_not_negative"),
        Index("ix_inventory_stock_location", "location_id", "sku_id"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()  # the owner of the units
    sku_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(ForeignKey("inventory_locations.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class Movement(Base):
    """One change of on_hand; never updated or deleted."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        Index("ix_inventory_movements_stock", "stock_id"),
        Index("ix_inventory_movements_sku", "tenant_id", "sku_id"),
        Index("ix_inventory_movements_ref", "tenant_id", "ref"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    stock_id: Mapped[str] = mapped_column(ForeignKey("inventory_stock.id"))
    sku_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]  # signed change of on_hand
    reason: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime]


class Hold(Base):
    """A reservation for one reference (a checkout), until it expires or becomes allocations."""

    __tablename__ = "inventory_holds"
    __table_args__ = (Index("ix_inventory_holds_expiry", "status", "expires_at"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    ref: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class HoldLine(Base):
    """Units of one stock row held for a hold (reserved) and later for an order (allocated)."""

    __tablename__ = "inventory_hold_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_inventory_hold_lines_stock", "stock_id", "status"),
        Index("ix_inventory_hold_lines_hold", "hold_id"),  # hold ids are unique across tenants
        Index("ix_inventory_hold_lines_order", "tenant_id", "order_id"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    hold_id: Mapped[str] = mapped_column(ForeignKey("inventory_holds.id"))
    stock_id: Mapped[str] = mapped_column(ForeignKey("inventory_stock.id"))
    sku_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime]  # the hold's, copied so expiry is one indexed predicate
    order_id: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[datetime]
