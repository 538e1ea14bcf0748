"""The contract between the data generator and the shop sandboxes.

A :class:`ShopState` is one generated shop plus everything that happened to it since (updated
customers, new orders, completed carts). Shop sandboxes (Shopify, WooCommerce) read and mutate
it only through this Protocol; :class:`connector.sandbox.datagen.GeneratedShop` implements it
lazily, so a 1,000,000-customer shop never sits in memory as objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, overload, runtime_checkable

from connector.sandbox.records import Product, ShopCart, ShopCustomer, ShopOrder

__all__ = ["Kind", "OrderBy", "Record", "ShopState"]

Kind = Literal["customers", "orders", "carts"]
OrderBy = Literal["key", "updated_at", "created_at"]
Record = ShopCustomer | ShopOrder | ShopCart


@runtime_checkable
class ShopState(Protocol):
    """One shop's data, generated lazily and mutable for tests and the demo."""

    name: str  # the shop's handle, e.g. "acme"
    base_currency: str

    @property
    def catalog(self) -> tuple[Product, ...]:
        """Every product (~200, in ~20 categories)."""
        ...

    def count(
        self, kind: Kind, *, updated_after: datetime | None = None, updated_before: datetime | None = None
    ) -> int:
        """How many records of ``kind`` exist (optionally: updated strictly after / strictly before)."""
        ...

    @overload
    def get(self, kind: Literal["customers"], key: int) -> ShopCustomer | None: ...
    @overload
    def get(self, kind: Literal["orders"], key: int) -> ShopOrder | None: ...
    @overload
    def get(self, kind: Literal["carts"], key: int) -> ShopCart | None: ...
    def get(self, kind: Kind, key: int) -> Record | None:
        """The current version of one record, or None."""
        ...

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
        """One page of records, current versions, in a total order.

        Args:
            order_by: ``key``, or ``updated_at``/``created_at`` with ties broken by key.
            after: exclusive position to continue from: a key for ``order_by="key"``, else a
                ``(timestamp, key)`` pair; with ``reverse`` it means "before".
            updated_after / updated_before: strict bounds on ``updated_at``.
            limit: at most this many records.
        """
        ...

    def orders_of(self, customer_key: int) -> list[ShopOrder]:
        """The customer's orders, current versions, by key."""
        ...

    def update(self, kind: Kind, key: int, at: datetime, **changes: Any) -> Record:
        """Change fields of a record; ``updated_at`` becomes ``at``. Returns the new version.

        Raises:
            KeyError: no such record.
        """
        ...

    def add(self, kind: Kind, at: datetime, **fields: Any) -> Record:
        """Create a record with the next key; ``created_at`` and ``updated_at`` become ``at``."""
        ...

    def dump(self) -> Mapping[str, Any]:
        """JSON-able state: the generator's parameters plus every change since, never the whole shop."""
        ...
