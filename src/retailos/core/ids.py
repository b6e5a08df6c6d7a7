"""Prefixed, sortable ids: `ord_01JD...`, a ULID (48-bit ms time + 80 random bits) behind a prefix.

Ids sort by creation time, so cursor pagination can order by id alone, and need no global counter.
Within one process they are strictly increasing even inside one millisecond (the random part is
incremented, as in monotonic ULIDs); across processes, ids of the same millisecond are unordered.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
# base64's RFC 4648 alphabet, digit for digit, to Crockford's: encode with the C codec, translate.
_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())
_PREFIX = re.compile(r"^[a-z]{2,6}$")
_RANDOM_BITS = 80

_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _time_digits(ms: int) -> str:
    chars = []
    for _ in range(10):
        ms, digit = divmod(ms, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _reserve(count: int, now_ms: int | None) -> tuple[int, int]:
    """The millisecond and first random value for `count` consecutive ids."""
    global _last_ms, _last_random
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        if now_ms is None and ms <= _last_ms:
            ms, first = _last_ms, _last_random + 1
        else:
            # the top bit stays clear so increments cannot overflow the 80 bits
            first = int.from_bytes(os.urandom(10), "big") >> 1
        if now_ms is None:
            _last_ms, _last_random = ms, first + count - 1
    return ms, first


def new_ids(prefix: str, count: int, now_ms: int | None = None) -> list[str]:
    """`count` new ids in increasing order; fast enough for 100k at a time."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"id prefix must be 2-6 lowercase letters, got {prefix!r}")
    ms, first = _reserve(count, now_ms)
    head = f"{prefix}_{_time_digits(ms)}"
    raw = b"".join((first + i).to_bytes(10, "big") for i in range(count))
    digits = base64.b32encode(raw).translate(_CROCKFORD).decode()  # 10 bytes -> 16 digits
    return [head + digits[i:i + 16] for i in range(0, 16 * count, 16)]


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """A new id such as `sku_01JD5Z0K8C9V6Q3W2XN1H4T7RB`."""
    return new_ids(prefix, 1, now_ms)[0]


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) == len(prefix) + 27
