"""A small in-memory :class:`~connector.sandbox.shop.ShopState` built from hand-made records.

For tests that need exact, readable data (the generated shop is for volume). It follows the
Protocol's ordering and bound semantics to the letter, so a sandbox tested against it behaves the
same on a generated shop. ``dump()``/``load()`` round-trip every record through JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.sandbox.records import Product, ShopCart, ShopCustomer, ShopLine, ShopOrder, ShopRefund
from connector.sandbox.shop import Kind, OrderBy, Record

__all__ = ["MemoryShop"]

_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (Product, ShopCart, ShopCustomer, ShopLine, ShopOrder, ShopRefund)
}
_KIND_TYPES: dict[Kind, type] = {"customers": ShopCustomer, "orders": ShopOrder, "carts": ShopCart}


class MemoryShop:
    """Every record held in dicts by key; scans sort on demand (fine for hundreds of records)."""

    def __init__(
        self,
        name: str = "acme",
        base_currency: str = "USD",
        *,
        catalog: Iterable[Product] = (),
        customers: Iterable[ShopCustomer] = (),
        orders: Iterable[ShopOrder] = (),
        carts: Iterable[ShopCart] = (),
    ) -> None:
        self.name = name
        self.base_currency = base_currency
        self._catalog = tuple(catalog)
        self._records: dict[Kind, dict[int, Record]] = {
            "customers": {c.key: c for c in customers},
            "orders": {o.key: o for o in orders},
            "carts": {c.key: c for c in carts},
        }

    @property
    def catalog(self) -> tuple[Product, ...]:
        return self._catalog

    def count(
        self, kind: Kind, *, updated_after: datetime | None = None, updated_before: datetime | None = None
    ) -> int:
        return sum(1 for r in self._records[kind].values() if _within(r, updated_after, updated_before))

    def get(self, kind: Kind, key: int) -> Any:
        return self._records[kind].get(key)

    def scan(
        self,
        kind: Kind,
        *,
        order_by: OrderBy = "key",
        after: tuple[datetime, int] | int | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        reverse: bool = False,
        limit: int = 50,
    ) -> list[Record]:
        def position(record: Record) -> Any:
            return record.key if order_by == "key" else (getattr(record, order_by), record.key)

        rows = sorted(
            (r for r in self._records[kind].values() if _within(r, updated_after, updated_before)),
            key=position,
            reverse=reverse,
        )
        if after is not None:
            rows = [r for r in rows if (position(r) < after if reverse else position(r) > after)]
        return rows[: max(0, limit)]

    def orders_of(self, customer_key: int) -> list[ShopOrder]:
        orders = self._records["orders"].values()
        return sorted((o for o in orders if isinstance(o, ShopOrder) and o.customer_key == customer_key),
                      key=lambda o: o.key)

    def update(self, kind: Kind, key: int, at: datetime, **changes: Any) -> Record:
        current = self._records[kind][key]  # KeyError: no such record, as the Protocol says
        new = dataclasses.replace(current, updated_at=at, **changes)
        self._records[kind][key] = new
        return new

    def add(self, kind: Kind, at: datetime, **fields: Any) -> Record:
        key = max(self._records[kind], default=0) + 1
        record = _KIND_TYPES[kind](key=key, created_at=at, updated_at=at, **fields)
        self._records[kind][key] = record
        return record

    def dump(self) -> Mapping[str, Any]:
        return {
            "memory": True,
            "name": self.name,
            "base_currency": self.base_currency,
            "catalog": [_encode(p) for p in self._catalog],
            **{kind: [_encode(r) for r in rows.values()] for kind, rows in self._records.items()},
        }

    @classmethod
    def load(cls, dump: Mapping[str, Any]) -> MemoryShop:
        """The shop a :meth:`dump` describes."""
        return cls(
            dump["name"],
            dump["base_currency"],
            catalog=[_decode(p) for p in dump["catalog"]],
            customers=[_decode(r) for r in dump["customers"]],
            orders=[_decode(r) for r in dump["orders"]],
            carts=[_decode(r) for r in dump["carts"]],
        )


def _within(record: Record, after: datetime | None, before: datetime | None) -> bool:
    return (after is None or record.updated_at > after) and (before is None or record.updated_at < before)


def _encode(value: Any) -> Any:
    """JSON-able form of records, tagging what JSON cannot tell apart (Decimal, dates, tuples)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__type__" in value:
        fields = {k: _decode(v) for k, v in value.items() if k != "__type__"}
        return _TYPES[value["__type__"]](**fields)
    if "__decimal__" in value:
        return Decimal(value["__decimal__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__date__" in value:
        return date.fromisoformat(value["__date__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    return {k: _decode(v) for k, v in value.items()}
