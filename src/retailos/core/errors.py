"""Domain errors that the API turns into RFC 9457 problem details with a stable `type`.

Services raise these; the API layer renders them. The `type` URN never changes once published.
"""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    RESERVED = frozenset({"type", "title", "status", "detail", "instance"})

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        clash = self.RESERVED & extensions.keys()
        if clash:  # an extension must never overwrite a member of RFC 9457
            raise ValueError(f"problem extensions may not be named {sorted(clash)}")
        self.detail = detail
        self.extensions = extensions

    @property
    def type(self) -> str:
        return f"urn:retailos:problem:{self.slug}"

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extensions)
        return doc


class InvalidInput(Problem):
    status, slug, title = 422, "invalid-input", "The request is not valid"


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "A valid API key is required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "The API key lacks the scope for this action"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "No such resource"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "The request conflicts with the current state"


class IllegalTransition(Problem):
    status, slug, title = 409, "illegal-transition", "That state change is not allowed"


class OutOfStock(Problem):
    status, slug, title = 409, "out-of-stock", "Not enough stock"


class IdempotencyConflict(Problem):
    status, slug, title = 409, "idempotency-key-reused", "Idempotency-Key reused with another body"


class IdempotencyInProgress(Problem):
    status, slug, title = 409, "idempotency-key-in-progress", "A request with this key is running"


class PaymentDeclined(Problem):
    status, slug, title = 402, "payment-declined", "The payment was declined"


class PaymentError(Problem):
    status, slug, title = 502, "payment-provider-error", "The payment provider failed"


class Busy(Problem):
    status, slug, title = 503, "busy", "The database is busy; retry with the same Idempotency-Key"


class PaymentAmountExceeded(Problem):
    status, slug, title = 409, "payment-amount-exceeded", "More than the payment allows"
