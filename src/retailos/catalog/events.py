"""Catalogue events, published through the outbox in the same transaction as the change."""

from __future__ import annotations

from typing import Any

PRODUCT_CREATED = "catalog.product.created"
PRODUCT_UPDATED = "catalog.product.updated"
PRODUCT_ARCHIVED = "catalog.product.archived"
PRODUCT_RESTORED = "catalog.product.restored"
VARIANT_CREATED = "catalog.variant.created"
VARIANT_UPDATED = "catalog.variant.updated"
VARIANT_ARCHIVED = "catalog.variant.archived"
VARIANT_RESTORED = "catalog.variant.restored"
PRICE_SET = "catalog.price.set"
PRICE_REMOVED = "catalog.price.removed"
CATEGORY_CREATED = "catalog.category.created"
CATALOGUE_IMPORTED = "catalog.imported"


def product_payload(product_id: str, **extra: Any) -> dict[str, Any]:
    return {"product_id": product_id, **extra}


def variant_payload(variant_id: str, product_id: str, **extra: Any) -> dict[str, Any]:
    return {"variant_id": variant_id, "product_id": product_id, **extra}
