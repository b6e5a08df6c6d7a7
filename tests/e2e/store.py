"""A small stocked store for end-to-end tests, set up through the packages' service functions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retailos.catalog import service as catalog
from retailos.core.clock import SystemClock
from retailos.core.db import Database
from retailos.inventory import service as inventory


@dataclass(frozen=True)
class Store:
    tenant_id: str
    location_id: str
    sku_ids: list[str]
    units: int  # received per SKU

    def sold(self, session: Session) -> dict[str, int]:
        """Units per SKU on orders that still hold them (not cancelled, net of returns)."""
        from retailos.orders.models import Order, OrderLine

        rows = session.execute(
            select(OrderLine.sku_id, func.sum(OrderLine.quantity - OrderLine.returned_quantity))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.tenant_id == self.tenant_id, Order.status != "cancelled")
            .group_by(OrderLine.sku_id)
        )
        return {sku: int(qty) for sku, qty in rows}


def stock_a_store(db: Database, tenant_id: str, skus: int, units: int,
                  price: int = 250) -> Store:
    clock = SystemClock()
    with db.transaction() as s:
        product = catalog.create_product(
            s, clock, tenant_id, title="Test pantry",
            variants=[catalog.VariantDraft(sku=f"T-{i:04d}", title=f"Item {i}",
                                           unit_weight_g=300, prices={"USD": price + i})
                      for i in range(skus)],
        )
        variant_ids = [v.id for v in catalog.list_variants(s, tenant_id,
                                                           product_id=product.id)[0]]
        location = inventory.create_location(s, clock, tenant_id, "wh-1", "Warehouse",
                                             "warehouse")
        inventory.receive_many(s, clock, tenant_id, location.id,
                               {v: units for v in variant_ids})
        return Store(tenant_id, location.id, variant_ids, units)
