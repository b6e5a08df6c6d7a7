"""Webhooks: tenants subscribe to event types; events are delivered signed, with retries."""
