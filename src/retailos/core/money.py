"""Money: an integer amount in the currency's minor unit and an ISO 4217 code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

# Minor-unit exponents of the currencies we accept. Extend when a tenant needs another.
MINOR_UNITS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2,
    "PLN": 2, "CZK": 2, "MXN": 2, "BRL": 2, "INR": 2, "CNY": 2, "NZD": 2, "SGD": 2, "HKD": 2,
    "ZAR": 2, "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "JOD": 3,
}


class CurrencyMismatch(ValueError):
    pass


def check_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise ValueError(f"unsupported currency {code!r}; use an ISO 4217 code such as USD")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units: cents for USD, yen for JPY
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int in minor units")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int; use percent_of for rates")
        return Money(self.amount * factor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def percent_of(self, basis_points: int) -> Money:
        """basis_points/10,000 of this amount, rounded half away from zero."""
        num = self.amount * basis_points
        q, r = divmod(abs(num), 10_000)
        if r * 2 >= 10_000:
            q += 1
        return Money(q if num >= 0 else -q, self.currency)

    def __str__(self) -> str:
        exp = MINOR_UNITS[self.currency]
        sign = "-" if self.amount < 0 else ""
        if not exp:
            return f"{sign}{abs(self.amount)} {self.currency}"
        whole, frac = divmod(abs(self.amount), 10**exp)
        return f"{sign}{whole}.{frac:0{exp}d} {self.currency}"
