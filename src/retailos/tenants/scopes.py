"""API-key scopes. A key holds a list of these; `*` grants every scope."""

from __future__ import annotations

ALL = "*"

SCOPES: dict[str, str] = {
    "tenants:read": "read tenants (own tenant; the operator reads all)",
    "tenants:write": "create tenants (operator only)",
    "keys:write": "create and revoke API keys of one's own tenant",
    "catalog:read": "read products, variants, categories, prices",
    "catalog:write": "create, change and archive catalogue entries",
    "inventory:read": "read locations, stock, movements, availability",
    "inventory:write": "receive, adjust and move stock; manage locations",
    "orders:read": "read carts and orders",
    "orders:write": "create carts, check out, cancel and return orders",
    "payments:read": "read payments and refunds",
    "payments:write": "capture, refund and confirm payments",
    "ledger:read": "read accounts, entries and balances",
    "billing:read": "read fee schedules, usage and statements",
    "billing:write": "set fee schedules (operator only)",
    "webhooks:read": "read webhook subscriptions and deliveries",
    "webhooks:write": "manage webhook subscriptions",
}

# What a new tenant's first key gets, by tenant kind.
DEFAULT_SCOPES: dict[str, list[str]] = {
    "operator": [ALL],
    "retailer": [s for s in SCOPES if s not in ("tenants:write", "billing:write")],
    "seller": [s for s in SCOPES if s not in ("tenants:write", "billing:write")],
    "partner_store": [s for s in SCOPES if s not in ("tenants:write", "billing:write")],
}


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s != ALL and s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    return sorted(set(scopes))


def grants(held: list[str], needed: str) -> bool:
    return ALL in held or needed in held
