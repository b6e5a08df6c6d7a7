"""Shared foundations: ids, money, clock, errors, settings, database, outbox, idempotency."""
