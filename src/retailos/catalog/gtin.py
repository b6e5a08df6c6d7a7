"""GTIN validation: GTIN-8, UPC-A (12), EAN-13 and GTIN-14, with the GS1 check digit."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def check_gtin(value: str) -> str:
    """`value` if it is a well-formed GTIN, else ValueError saying what is wrong."""
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"GTIN {value!r} must contain digits only")
    if len(value) not in GTIN_LENGTHS:
        raise ValueError(f"GTIN {value!r} must have 8, 12, 13 or 14 digits, not {len(value)}")
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(
            f"GTIN {value!r} has a bad check digit: {value[-1]}, expected {expected}"
        )
    return value
