"""Prefixed, sortable ids: `ord_01JD...`, a ULID (48-bit ms time + 80 random bits) behind a prefix.

Ids sort by creation time, so cursor pagination can order by id alone, and need no global counter.
"""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_PREFIX = re.compile(r"^[a-z]{2,6}$")


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """A new id such as `sku_01JD5Z0K8C9V6Q3W2XN1H4T7RB`."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"id prefix must be 2-6 lowercase letters, got {prefix!r}")
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_base32(ms, 10)}{_base32(rand, 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 27
