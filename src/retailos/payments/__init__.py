"""Payments: payment intents, providers (a built-in test provider first), refunds."""
