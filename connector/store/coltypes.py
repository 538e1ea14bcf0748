"""Column types that keep the canonical models' guarantees in the database.

- :class:`UtcDateTime`: aware UTC datetimes in and out, on SQLite (which has no time zones) as
  on PostgreSQL; a naive datetime is refused rather than guessed at.
- :class:`MoneyType`: exact money as a 64-bit integer of ten-thousandths, so amounts in every
  ISO 4217 exponent (0 to 4) are exact and ``SUM()`` in SQL stays exact too.
- :class:`JsonText`: JSON in a TEXT column, serialised deterministically (sorted keys, no
  spaces), keeping ``Decimal``, ``date`` and ``datetime`` values as such.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Text
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["MONEY_SCALE", "JsonText", "MoneyType", "UtcDateTime", "dumps_json", "loads_json"]

MONEY_SCALE = 10_000  # the largest ISO 4217 exponent is 4 (CLF, UYW)
_MAX_UNITS = 2**63 - 1  # BIGINT
_ONE = Decimal(1)


class _SqliteUtcText(sqlite.DATETIME):
    """SQLite's DATETIME column, with the text conversion left to :class:`UtcDateTime`.

    Same DDL and storage format as SQLAlchemy's own (``YYYY-MM-DD HH:MM:SS.ffffff``), but one
    ``isoformat``/``fromisoformat`` call per value instead of a format string and a regex:
    bulk loads convert millions of timestamps.
    """

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC and always read back as aware UTC.

    SQLite keeps it as text ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, which sorts correctly;
    PostgreSQL as ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SqliteUtcText()  # type: ignore[no-untyped-call]  # SQLAlchemy's DATETIME.__init__
        return self.impl_instance

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValueError(f"expected a datetime, got {type(value).__name__}")
        if value.utcoffset() is None:
            raise ValueError(f"refusing naive datetime {value.isoformat()}: the store keeps UTC-aware times only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # No zone in SQLite: the UTC wall time, fixed width so text order is time order.
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def process_result_value(self, value: datetime | str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class MoneyType(TypeDecorator[Decimal]):
    """A ``Decimal`` amount stored as ``BIGINT`` of ten-thousandths (``19.99`` -> ``199900``).

    Amounts with more than 4 decimal places are refused, never rounded: a silent rounding would
    make totals disagree with the shop's. Read back as the shortest exact ``Decimal``
    (``199900`` -> ``Decimal("19.99")``, ``15000000`` -> ``Decimal("1500")``).
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        return None if value is None else to_money_units(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_money_units(value)


def to_money_units(value: Decimal | int) -> int:
    """``Decimal("19.99")`` -> ``199900``.

    Raises:
        ValueError: not a finite Decimal or int, more than 4 decimal places, or beyond
            ±922 trillion (a signed 64-bit integer of ten-thousandths).
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"money must be a Decimal or int, got {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"money amount {amount} is not finite")
    scaled = amount * MONEY_SCALE
    units = int(scaled)
    if units != scaled:
        raise ValueError(f"money amount {amount} has more than 4 decimal places; refusing to round it")
    if not -_MAX_UNITS <= units <= _MAX_UNITS:
        raise ValueError(f"money amount {amount} is too large to store")
    return units


def from_money_units(units: int) -> Decimal:
    """``199900`` -> ``Decimal("19.99")``: exact, without trailing zeros or exponent notation."""
    amount = Decimal(int(units)).scaleb(-4)
    if amount == amount.to_integral_value():
        return amount.quantize(_ONE)
    return amount.normalize()


class JsonText(TypeDecorator[Any]):
    """JSON in a TEXT column; the same value always serialises to the same text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dumps_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else loads_json(value)


# Values JSON has no type for are written as one-key objects: {"$decimal": "1.50"}.
_DECIMAL, _DATE, _DATETIME = "$decimal", "$date", "$datetime"


def _encode(value: object) -> dict[str, str]:
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    if isinstance(value, datetime):  # before date: a datetime is a date
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, text),) = obj.items()
        if key == _DECIMAL:
            return Decimal(text)
        if key == _DATETIME:
            return datetime.fromisoformat(text)
        if key == _DATE:
            return date.fromisoformat(text)
    return obj


# Built once: json.dumps/loads with options build a new encoder/decoder on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode)
_DECODER = json.JSONDecoder(object_hook=_decode)


def dumps_json(value: Any) -> str:
    """Deterministic JSON text: sorted keys, compact, UTF-8 kept, Decimal/date/datetime tagged."""
    return _ENCODER.encode(value)


def loads_json(text: str) -> Any:
    """The inverse of :func:`dumps_json`."""
    return _DECODER.decode(text)
