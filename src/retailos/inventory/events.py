"""Inventory events, published through the outbox in the same transaction as the change.

Reservations, allocations and shipments are announced by the orders package as order events;
these cover the stock changes that have no order behind them.
"""

from __future__ import annotations

from typing import Any

STOCK_RECEIVED = "inventory.stock.received"
STOCK_BULK_RECEIVED = "inventory.stock.bulk_received"
STOCK_ADJUSTED = "inventory.stock.adjusted"
STOCK_TRANSFERRED = "inventory.stock.transferred"
STOCK_RETURNED = "inventory.stock.returned"


def stock_payload(sku_id: str, location_id: str, quantity: int, **extra: Any) -> dict[str, Any]:
    return {"sku_id": sku_id, "location_id": location_id, "quantity": quantity, **extra}
