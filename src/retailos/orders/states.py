"""The order state machine: which status may follow which. Everything else is a 409."""

from __future__ import annotations

from retailos.core.errors import IllegalTransition

PLACED, PAID, FULFILLED, SHIPPED = "placed", "paid", "fulfilled", "shipped"
DELIVERED, CANCELLED, RETURNED = "delivered", "cancelled", "returned"
STATUSES = (PLACED, PAID, FULFILLED, SHIPPED, DELIVERED, CANCELLED, RETURNED)

TRANSITIONS: dict[str, frozenset[str]] = {
    PLACED: frozenset({PAID, CANCELLED}),
    PAID: frozenset({FULFILLED, CANCELLED}),
    FULFILLED: frozenset({SHIPPED, CANCELLED}),
    SHIPPED: frozenset({DELIVERED, RETURNED}),
    DELIVERED: frozenset({RETURNED}),
    CANCELLED: frozenset(),
    RETURNED: frozenset(),
}

# Where goods may come back from: they must have left the building.
RETURNABLE = frozenset({SHIPPED, DELIVERED})


def check_transition(order_id: str, current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(
            f"order {order_id} is {current}; it cannot become {wanted}",
            order_id=order_id, current_status=current, wanted=wanted,
            allowed=sorted(TRANSITIONS.get(current, frozenset())),
        )
