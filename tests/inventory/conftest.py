"""Inventory fixtures: a tenant with two locations and catalogue variants to stock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from retailos.catalog import service as catalog
from retailos.catalog.service import VariantDraft
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.ids import new_id
from retailos.inventory import service as inventory
from retailos.tenants import service as tenants

_codes = itertools.count()


@dataclass
class Shop:
    tenant_id: str
    warehouse: str
    store: str
    db: Database
    clock: ManualClock

    def skus(self, count: int) -> list[str]:
        """Ids of `count` new variants in the shop's catalogue (one product)."""
        with self.db.transaction() as s:
            product = catalog.create_product(
                s, self.clock, self.tenant_id, title="Test product",
                variants=[VariantDraft(sku=f"T-{next(_codes)}") for _ in range(count)])
            return [v.id for v in product.variants]

    def sku(self) -> str:
        return self.skus(1)[0]


def make_shop(db: Database, clock: ManualClock) -> Shop:
    with db.transaction() as s:
        tenant = tenants.create_tenant(s, clock, "retailer", "Shop")
        warehouse = inventory.create_location(s, clock, tenant.id, "WH1", "Warehouse", "warehouse")
        store = inventory.create_location(s, clock, tenant.id, "ST1", "Store", "store")
        return Shop(tenant.id, warehouse.id, store.id, db, clock)


@pytest.fixture
def shop(db: Database, clock: ManualClock) -> Shop:
    return make_shop(db, clock)


def sku() -> str:
    """A well-formed SKU id that no catalogue knows."""
    return new_id("sku")
