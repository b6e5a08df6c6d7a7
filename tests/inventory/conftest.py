"""Inventory fixtures: a tenant with two locations, and SKU ids."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.ids import new_id
from retailos.inventory import service as inventory
from retailos.tenants import service as tenants


@dataclass
class Shop:
    tenant_id: str
    warehouse: str
    store: str


def make_shop(db: Database, clock: ManualClock) -> Shop:
    with db.transaction() as s:
        tenant = tenants.create_tenant(s, clock, "retailer", "Shop")
        warehouse = inventory.create_location(s, clock, tenant.id, "WH1", "Warehouse", "warehouse")
        store = inventory.create_location(s, clock, tenant.id, "ST1", "Store", "store")
        return Shop(tenant.id, warehouse.id, store.id)


@pytest.fixture
def shop(db: Database, clock: ManualClock) -> Shop:
    return make_shop(db, clock)


def sku() -> str:
    return new_id("sku")
