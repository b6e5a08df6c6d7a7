"""Catalogue tables: categories (a tree), products, variants (SKUs), prices per currency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from retailos.core.db import Base, id_column, tenant_column

STATUSES = ("active", "archived")


class Category(Base):
    __tablename__ = "catalog_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_catalog_categories_tenant_page", "tenant_id", "id"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    code: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_categories.id"), index=True, default=None
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Product(Base):
    __tablename__ = "catalog_products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_ref"),
        # Lists page through one tenant's rows in id order: this index serves both at once.
        Index("ix_catalog_products_tenant_page", "tenant_id", "id"),
        Index("ix_catalog_products_tenant_category", "tenant_id", "category_id"),
        CheckConstraint("status IN ('active', 'archived')", name="status"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    title: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(120), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    category_id: Mapped[str | None] = mapped_column(
        ForeignKey("catalog_categories.id"), default=None
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where an imported product came from ("completejourney:25671"); makes imports idempotent.
    external_ref: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", lazy="selectin", order_by=lambda: [Variant.position, Variant.id]
    )


class Variant(Base):
    """A sellable unit (SKU) of a product."""

    __tablename__ = "catalog_variants"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        UniqueConstraint("tenant_id", "gtin"),
        Index("ix_catalog_variants_tenant_page", "tenant_id", "id"),
        CheckConstraint("status IN ('active', 'archived')", name="status"),
        CheckConstraint("unit_weight_g IS NULL OR unit_weight_g > 0", name="unit_weight_g"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    product_id: Mapped[str] = mapped_column(ForeignKey("catalog_products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    gtin: Mapped[str | None] = mapped_column(String(14), default=None)
    unit_weight_g: Mapped[int | None] = mapped_column(default=None)
    package_size: Mapped[str | None] = mapped_column(String(60), default=None)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # The order of the product's variants as given (ids made in one millisecond sort at random).
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")
    prices: Mapped[list[Price]] = relationship(
        back_populates="variant", lazy="selectin", order_by="Price.currency"
    )


class Price(Base):
    """The price of one variant in one currency, in minor units."""

    __tablename__ = "catalog_prices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "variant_id", "currency"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = tenant_column()
    variant_id: Mapped[str] = mapped_column(ForeignKey("catalog_variants.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    variant: Mapped[Variant] = relationship(back_populates="prices", lazy="raise")
