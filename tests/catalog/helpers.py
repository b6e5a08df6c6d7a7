"""Helpers shared by the catalogue tests: a tenant and a quickly stocked shelf."""

from __future__ import annotations

from sqlalchemy.orm import Session

from retailos.catalog import service
from retailos.catalog.service import VariantDraft
from retailos.core.clock import ManualClock
from retailos.tenants import service as tenants


def tenant(session: Session, clock: ManualClock, name: str) -> str:
    return tenants.create_tenant(session, clock, "retailer", name).id


def stock_shelf(session: Session, clock: ManualClock, tenant_id: str, n: int) -> list[str]:
    """n products of one variant each, priced in USD (i * 100 cents); returns variant ids."""
    ids = []
    for i in range(1, n + 1):
        product = service.create_product(
            session, clock, tenant_id, title=f"Item {i}", variants=[VariantDraft(
                sku=f"S{i}", package_size="16 OZ", prices={"USD": i * 100})],
        )
        ids.append(product.variants[0].id)
    return ids
