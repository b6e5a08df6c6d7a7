"""Signatures: `RetailOS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

The timestamp is signed with the body, so a captured request cannot be replayed later than the
receiver's tolerance. `verify_signature` is what a receiver written in Python calls.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime

SIGNATURE_HEADER = "RetailOS-Signature"
EVENT_ID_HEADER = "RetailOS-Event-Id"
EVENT_TYPE_HEADER = "RetailOS-Event-Type"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes | str, tolerance_s: float = 300,
    now: datetime | float | None = None,
) -> bool:
    """True when `header` signs exactly `body` with `secret` and its timestamp is within
    `tolerance_s` seconds of `now` (a datetime or unix seconds; the system time when None).
    Several `v1=` entries are accepted, so a receiver can roll its secret."""
    raw = body.encode() if isinstance(body, str) else body
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = (now.timestamp() if isinstance(now, datetime)
               else time.time() if now is None else float(now))
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, raw)
    return any(hmac.compare_digest(expected, c) for c in candidates)
