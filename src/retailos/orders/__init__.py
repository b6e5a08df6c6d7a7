"""Carts, checkout, order groups split into orders per seller, the order state machine, shipments,
cancellations and returns."""
