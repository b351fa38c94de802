"""Money as exact decimals: a Numeric(12, 2) column that always hands Python a Decimal.

PostgreSQL keeps NUMERIC exactly. SQLite has no decimal type: the value is stored in a NUMERIC-affinity
column and read back through its shortest decimal form (450.1 -> Decimal("450.10")), which is exact for
amounts with two decimals. Sums are taken in SQL over whole cents (`cents_sum`), exact on both.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, Numeric, cast, func
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
"""The smallest amount kept."""


def to_money(value) -> Decimal | None:
    """An amount (Decimal, int, float or numeric string) as a Decimal of whole cents; None stays None."""
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)  # the float's shortest decimal form: 0.1 -> "0.1", not 0.1000000000000000055…
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Money(TypeDecorator):
    """NUMERIC(12, 2) read and written as Decimal on every database."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":  # no native decimal: take the stored number and make it exact ourselves
            return dialect.type_descriptor(Numeric(12, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value, dialect):
        amount = to_money(value)
        if amount is None or dialect.name != "sqlite":
            return amount
        return float(amount)  # sqlite3 binds no Decimal; a two-decimal float reads back as the same Decimal

    def process_result_value(self, value, dialect):
        return to_money(value)


def cents_sum(column):
    """SUM of a money column in whole cents (an integer, exact on SQLite too); 0 when there are no rows."""
    return func.coalesce(func.sum(cast(func.round(column * 100), Integer)), 0)


def from_cents(cents) -> Decimal:
    """Whole cents (what `cents_sum` returns) as a Decimal amount."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)
