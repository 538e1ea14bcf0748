"""Seeded, lazy, realistic shops: the data behind every sandbox, test and bench.

``GeneratedShop(ShopSpec(name="acme", seed=1, customers=1_000_000))`` is a
:class:`~connector.sandbox.shop.ShopState` with about 5,000,000 orders that never sit in memory
as objects: construction draws each record's position into compact arrays (~21 bytes an order),
and a record is built from ``(seed, kind, key)`` only when read. The same spec always gives the
same shop; changes made through ``update``/``add`` live in an overlay that ``dump`` saves.

What is generated (default spec; shares are of all records of the kind unless said otherwise):

Customers
    - Names from eight countries (US 28%, FR 22%, GB 12%, DE 11%, ES, IT, CA 7% each, BE 6%), with
      a consistent city, region, postcode, street address (90%), locale (95%) and country.
    - Email built from the name at a provider common in the country (gmail.com, orange.fr,
      gmx.de, ...), or at the company's domain for B2B customers. About 0.5% are invalid
      (missing or double ``@``, trailing dot, space inside, no top-level domain, comma) and 3%
      carry stray spaces or capitals (valid once trimmed and lower-cased). Addresses are not
      guaranteed unique: ~0.3% of customers share theirs with another at 1M customers.
    - Phone for 70%: national format of the country ("06 12 34 56 78", "(415) 392-2671"),
      compact, international or E.164; valid per ``phonenumbers`` except ~3% ("12345", cut short).
    - Company (B2B) for 8%, tagged ``wholesale``; ``loyalty-bronze/silver/gold`` tag and
      ``loyalty_tier`` for 15%; ``vip`` for the ~2% heaviest buyers (and a few others).
    - Consent: subscribed 45% (timestamp near sign-up), not_subscribed 35% (no timestamp),
      unsubscribed 12% (timestamp later), pending 8%. Birthday known for 40%.
    - ``created_at`` spread over 5 years, denser at the end (the shop grows); ``updated_at`` is at
      least the last order's ``created_at``. Staff accounts: customer 1 (shops of 100 or more) and
      about 1 in 20,000.
Orders (``orders_per_customer`` per customer on average, guests included)
    - Activity is skewed: 25% of customers never order, the others have 1 + Poisson(lognormal
      weight x time active) orders, so a few buy very often and most lapse after a while.
    - 5% are guest checkouts (no customer): half by new people, the rest by people who create an
      account later or have one but did not log in.
    - 1 + Poisson(1.4) lines, Zipf-popular products (exponent 1.1), quantities mostly 1-3; prices
      converted from the base currency at fixed rates (USD 1, EUR 0.92, GBP 0.79); a customer
      mostly pays in one currency; USD 60% / EUR 25% / GBP 15%.
    - 15% use a discount code (WELCOME10, SUMMER20, VIP15, BLACKFRIDAY25, SPRING15, FREESHIP).
      Shipping is free from 75 USD-equivalent and at POS; tax at the billing country's rate.
    - Status: completed/paid ~87%, processing (mostly the last 3 days), on-hold/authorized 1%,
      pending 2%, failed 1.2%, checkout-draft 0.8% (these three unpaid, no ``processed_at``),
      cancelled 2% (voided, or refunded in full), refunded in full 3%, partially refunded 2%
      (some lines, or part of a single line, always less than the total). 0.5% are test orders.
      Channel: web 82%, pos 10%, mobile 8%. ``number = 1000 + key``. Billing address from the
      buyer. ``meta["_newsletter_optin"] = "yes"`` when the customer is subscribed.
Carts (abandoned checkouts, ``carts_per_customer`` per customer)
    - 85% by a customer who existed then, 15% by guests with an email; 1-4 lines; a 32-hex-digit
      token; 30% completed later. 20% fall in the last 60 days, so "abandoned cart" segments are
      never empty at the end date.
Catalogue
    - 200 products in 20 categories (Apparel, Shoes, Accessories, Bags, Jewelry, Home, ...), each
      with a product type, vendor, SKU and price.

Same person in two shops: identities (name, email, phone, address) come from a population keyed
by ``population_seed``. For a share ``shared_share`` of customer keys (the same keys in every
shop of that population), customer ``k`` is person ``k``; every other customer is a person only
this shop has. Two shops with the same population and ``shared_share=0.1`` share ~10% of emails.

Keys are chronological, as on real platforms: a higher key was created later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal, overload

from connector.sandbox.datagen_build import RecordBuilder
from connector.sandbox.datagen_catalog import FX_RATES, Catalog
from connector.sandbox.datagen_codec import decode, encode
from connector.sandbox.datagen_index import ShopIndex, build_index
from connector.sandbox.datagen_rand import Draws, kind_base
from connector.sandbox.datagen_scan import KindView
from connector.sandbox.datagen_spec import ShopSpec
from connector.sandbox.records import Product, ShopCart, ShopCustomer, ShopOrder
from connector.sandbox.shop import Kind, OrderBy, Record

__all__ = ["DUMP_FORMAT", "FX_RATES", "GeneratedShop", "ShopSpec"]

DUMP_FORMAT = 1
_KINDS: tuple[Kind, ...] = ("customers", "orders", "carts")
_CLASSES: Mapping[str, type] = MappingProxyType({"customers": ShopCustomer, "orders": ShopOrder, "carts": ShopCart})
_ADDED_CART_TOKENS = 21
_FIXED_FIELDS = frozenset({"key", "created_at", "updated_at"})


class GeneratedShop:
    """A lazily generated shop implementing :class:`~connector.sandbox.shop.ShopState`."""

    def __init__(self, spec: ShopSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.base_currency = spec.base_currency
        span = int((spec.end - spec.start).total_seconds())
        index = build_index(spec.seed, spec.customers, spec.orders_per_customer, spec.carts_per_customer, span)
        self._catalog = Catalog(spec.seed, spec.base_currency, tuple(c for c, _ in spec.currencies))
        self._builder = RecordBuilder(
            seed=spec.seed,
            population_seed=spec.population_seed,
            shared_share=spec.shared_share,
            invalid_email_rate=spec.invalid_email_rate,
            start=spec.start,
            currencies=spec.currencies,
            index=index,
            catalog=self._catalog,
        )
        self._index = index
        self._views: dict[str, KindView] = {
            "customers": KindView(index.customers, self._builder.customer, spec.start),
            "orders": KindView(index.orders, self._builder.order, spec.start),
            "carts": KindView(index.carts, self._builder.cart, spec.start),
        }
        self._orders_by_customer: dict[int, set[int]] = {}  # changed/added orders by current customer_key

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind}={self.count(kind)}" for kind in _KINDS)
        return f"GeneratedShop({self.name!r}, seed={self.spec.seed}, {counts})"

    @property
    def index(self) -> ShopIndex:
        """The generator's compact arrays (times, order classes, customers) as generated, before any change.

        Read-only: for sandboxes that build their own indexes in milliseconds instead of building
        every record through the Protocol. Changes since generation are in ``dump()["changes"]``.
        """
        return self._index

    @property
    def catalog(self) -> tuple[Product, ...]:
        """Every product (200, in 20 categories)."""
        return self._catalog.products

    def count(self, kind: Kind, *, updated_after: datetime | None = None,
              updated_before: datetime | None = None) -> int:
        """How many records of ``kind`` exist (optionally: updated strictly after / strictly before)."""
        view = self._view(kind)
        return view.count(_opt(view, updated_after), _opt(view, updated_before))

    @overload
    def get(self, kind: Literal["customers"], key: int) -> ShopCustomer | None: ...
    @overload
    def get(self, kind: Literal["orders"], key: int) -> ShopOrder | None: ...
    @overload
    def get(self, kind: Literal["carts"], key: int) -> ShopCart | None: ...
    def get(self, kind: Kind, key: int) -> Record | None:
        """The current version of one record, or None."""
        return self._view(kind).get(key)

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
        """One page of records, current versions, in a total order (see :meth:`ShopState.scan`).

        Raises:
            ValueError: ``after`` of the wrong shape for ``order_by``, or a naive datetime.
        """
        view = self._view(kind)
        position: tuple[int, int] | None = None
        if after is not None:
            if order_by == "key":
                if not isinstance(after, int):
                    raise ValueError("after must be a key when order_by='key'")
                position = (0, after)
            else:
                if not isinstance(after, tuple) or len(after) != 2:
                    raise ValueError(f"after must be a (timestamp, key) pair when order_by={order_by!r}")
                position = (view.micros(after[0]), after[1])
        return view.scan(order_by, position, _opt(view, updated_after), _opt(view, updated_before), reverse, limit)

    def orders_of(self, customer_key: int) -> list[ShopOrder]:
        """The customer's orders, current versions, by key."""
        ix = self._index
        keys: set[int] = set(self._orders_by_customer.get(customer_key, ()))
        if 1 <= customer_key <= ix.customers.n:
            start, end = ix.customer_order_start[customer_key], ix.customer_order_start[customer_key + 1]
            keys.update(ix.customer_orders[start:end])
        view = self._views["orders"]
        found = (view.get(k) for k in sorted(keys))
        return [o for o in found if isinstance(o, ShopOrder) and o.customer_key == customer_key]

    def update(self, kind: Kind, key: int, at: datetime, **changes: Any) -> Record:
        """Change fields of a record; ``updated_at`` becomes ``at``. Returns the new version.

        Raises:
            KeyError: no such record.
            ValueError: ``at`` is naive.
            TypeError: ``changes`` name a field the record does not have.
        """
        view = self._view(kind)
        view.micros(at)  # reject a naive datetime before changing anything
        current = view.get(key)
        if current is None:
            raise KeyError(f"no {kind} record with key {key}")
        new: Record = dataclasses.replace(current, **{**changes, "updated_at": at})
        self._put(kind, new)
        return new

    def add(self, kind: Kind, at: datetime, **fields: Any) -> Record:
        """Create a record with the next key; ``created_at`` and ``updated_at`` become ``at``.

        Unset fields take neutral defaults (no tags, not subscribed, a pending order with no
        lines, the base currency...); for an order or cart with a ``customer_key`` the email
        defaults to the customer's. Adding an order touches its customer's ``updated_at``, as
        shops do.

        Raises:
            ValueError: ``fields`` set ``key``, ``created_at`` or ``updated_at``, or ``at`` is naive.
            TypeError: a required field (a customer's ``email``) is missing or a field is unknown.
        """
        fixed = _FIXED_FIELDS & fields.keys()
        if fixed:
            raise ValueError(f"add() sets {sorted(fixed)} itself")
        view = self._view(kind)
        view.micros(at)  # reject a naive datetime before changing anything
        key = view.total + 1
        values = self._defaults(kind, key, fields.get("customer_key"))
        values.update(fields, key=key, created_at=at, updated_at=at)
        record: Record = _CLASSES[kind](**values)
        self._put(kind, record)
        if isinstance(record, ShopOrder) and record.customer_key:
            customer = self._views["customers"].get(record.customer_key)
            if customer is not None and customer.updated_at < at:
                self.update("customers", record.customer_key, at)
        return record

    def dump(self) -> Mapping[str, Any]:
        """JSON-able state: the spec plus every change since, never the whole shop."""
        return {
            "format": DUMP_FORMAT,
            "spec": self.spec.model_dump(mode="json"),
            "changes": {
                kind: [encode(view.records[k]) for k in sorted(view.records)] for kind, view in self._views.items()
            },
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> GeneratedShop:
        """The shop :meth:`dump` described, changes included.

        Raises:
            ValueError: an unknown dump format.
        """
        if data.get("format") != DUMP_FORMAT:
            raise ValueError(f"unknown shop dump format {data.get('format')!r}")
        shop = cls(ShopSpec.model_validate(data["spec"]))
        for kind in _KINDS:
            for raw in data["changes"].get(kind, ()):
                shop._put(kind, decode(_CLASSES[kind], raw))
        return shop

    # -- internals ------------------------------------------------------------------------------
    def _view(self, kind: str) -> KindView:
        try:
            return self._views[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}: use one of {_KINDS}") from None

    def _put(self, kind: str, record: Record) -> None:
        view = self._views[kind]
        if isinstance(record, ShopOrder):
            previous = view.records.get(record.key)
            if isinstance(previous, ShopOrder) and previous.customer_key is not None:
                self._orders_by_customer.get(previous.customer_key, set()).discard(record.key)
            if record.customer_key is not None:
                self._orders_by_customer.setdefault(record.customer_key, set()).add(record.key)
        view.put(record)

    def _defaults(self, kind: str, key: int, customer_key: int | None) -> dict[str, Any]:
        customer = self._views["customers"].get(customer_key) if customer_key else None
        email = customer.email if isinstance(customer, ShopCustomer) else None
        if kind == "customers":
            return {
                "first_name": None, "last_name": None, "phone": None, "country": None, "region": None,
                "city": None, "postal_code": None, "address1": None, "company": None, "locale": None, "tags": (),
                "consent": "not_subscribed", "consent_updated_at": None, "birthday": None, "loyalty_tier": None,
            }
        common: dict[str, Any] = {"customer_key": None, "currency": self.base_currency, "lines": ()}
        if email is not None:
            common["email"] = email
        if kind == "orders":
            return common | {
                "number": 1000 + key, "status": "pending", "financial": "pending", "processed_at": None,
                "cancelled_at": None, "test": False, "source_channel": "web", "discount_codes": (),
                "shipping": Decimal(0), "tax": Decimal(0),
                "billing_country": getattr(customer, "country", None),
                "billing_city": getattr(customer, "city", None),
                "billing_postal_code": getattr(customer, "postal_code", None),
            }
        return common | {"token": Draws(kind_base(self.spec.seed, _ADDED_CART_TOKENS), key).hex(32)}


def _opt(view: KindView, when: datetime | None) -> int | None:
    return None if when is None else view.micros(when)

