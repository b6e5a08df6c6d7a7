"""Stored results of POST requests by (tenant, Idempotency-Key).

The record is written in the same transaction as the request's own changes, so a request either
happened with its record or did not happen at all: a retry after a crash is always safe.
Only successful (2xx) results are stored; a failed request can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from retailos.core.db import Base
from retailos.core.errors import IdempotencyConflict, InvalidInput

MAX_KEY_LENGTH = 255
# Response fields that are shown once and must never be stored: API key tokens, webhook secrets.
SECRET_FIELDS = frozenset({"token", "secret"})
REDACTED = "(shown once; not stored)"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    tenant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    return key


def find(session: Session, tenant_id: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The stored result for this key, or None; a different request under the key is a 409."""
    record = session.get(IdempotencyRecord, (tenant_id, key))
    if record is not None and record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was used for a different request", key=key
        )
    return record


def storable_body(body: bytes, content_type: str) -> str:
    """The response body to keep for replays, with secrets shown once replaced by a marker."""
    text = body.decode()
    if "json" not in content_type or not any(f'"{name}"' in text for name in SECRET_FIELDS):
        return text  # nothing that could be a secret field: the body as it was sent
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_redact(doc), separators=(",", ":"))


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS and isinstance(v, str) else _redact(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value
