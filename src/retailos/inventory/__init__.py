"""Inventory: locations, stock per (sku, location, owner), reservations with expiry, movements."""
