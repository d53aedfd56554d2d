"""Money as integer cents plus an ISO 4217 currency code."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Money(BaseModel):
    """An amount in the currency's minor unit (cents for USD), never a float."""

    model_config = ConfigDict(frozen=True)

    cents: int
    currency: str = Field(default="USD", min_length=3, max_length=3)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @classmethod
    def zero(cls, currency: str = "USD") -> Money:
        """Return nothing, in ``currency``."""
        return cls(cents=0, currency=currency)

    @classmethod
    def from_decimal(cls, amount: str | Decimal | int, currency: str = "USD") -> Money:
        """Parse a decimal amount as the channels send it (``"12.50"``), rounding half up."""
        cents = (Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return cls(cents=int(cents), currency=currency)

    def to_decimal_string(self) -> str:
        """Render as ``"12.50"``: the form REST APIs such as WooCommerce expect."""
        sign = "-" if self.cents < 0 else ""
        whole, frac = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{frac:02d}"

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(cents=self.cents + other.cents, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(cents=self.cents - other.cents, currency=self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(cents=self.cents * factor, currency=self.currency)

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"


def total(amounts: list[Money] | tuple[Money, ...], currency: str = "USD") -> Money:
    """Sum amounts of one currency; an empty list is zero in ``currency``."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
