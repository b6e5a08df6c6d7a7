"""Every package's tables, imported in one place so metadata (and Alembic) sees them all."""

from __future__ import annotations

from retailos.billing.models import FeeSchedule, UsageRecord
from retailos.catalog.models import Category, Price, Product, Variant
from retailos.core.db import Base
from retailos.core.idempotency import IdempotencyRecord
from retailos.core.outbox import OutboxEvent
from retailos.inventory.models import Hold, HoldLine, Location, Movement, Stock
from retailos.ledger.models import JournalEntry, JournalLine, LedgerAccount
from retailos.orders.models import (
    Cart,
    CartLine,
    Order,
    OrderGroup,
    OrderLine,
    OrderReturn,
    ReturnLine,
    Shipment,
    TaxRate,
)
from retailos.payments.models import Payment, ProcessedProviderEvent, Refund
from retailos.payments.providers import (
    TestProviderCharge,
    TestProviderEvent,
    TestProviderRefund,
    TestProviderRequest,
)
from retailos.tenants.models import ApiKey, Tenant
from retailos.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

metadata = Base.metadata

__all__ = [
    "ApiKey", "Cart", "CartLine", "Category", "FeeSchedule", "Hold", "HoldLine",
    "IdempotencyRecord", "JournalEntry", "JournalLine", "LedgerAccount", "Location", "Movement",
    "Order", "OrderGroup", "OrderLine", "OrderReturn", "OutboxEvent", "Payment", "Price",
    "ProcessedProviderEvent", "Product", "Refund", "ReturnLine", "Shipment", "Stock", "TaxRate",
    "Tenant", "TestProviderCharge", "TestProviderEvent", "TestProviderRefund",
    "TestProviderRequest", "UsageRecord", "Variant", "WebhookAttempt", "WebhookDelivery",
    "WebhookSubscription", "metadata",
]
