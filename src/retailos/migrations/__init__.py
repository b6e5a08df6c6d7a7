"""Alembic migrations for the RetailOS schema."""
