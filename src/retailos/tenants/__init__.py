"""Tenants (operator, retailer, seller, partner store), API keys and their scopes."""
