"""What a generated shop is made of, independent of any platform.

The data generator (:mod:`connector.sandbox.datagen`) produces these; each shop sandbox
(Shopify, WooCommerce) renders them in its own API's shapes. They are deliberately "raw": an
email may be invalid, a phone may be in national format, money is as the shop stores it. Turning
them into canonical models is the sources' job, so the sandboxes exercise that code for real.

All datetimes are timezone-aware UTC; money is ``Decimal`` with the currency's minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "ConsentValue",
    "FinancialValue",
    "Product",
    "ShopCart",
    "ShopCustomer",
    "ShopLine",
    "ShopOrder",
    "ShopRefund",
    "StatusValue",
]

ConsentValue = Literal["subscribed", "not_subscribed", "unsubscribed", "pending"]
FinancialValue = Literal["pending", "authorized", "paid", "partially_refunded", "refunded", "voided"]
# WooCommerce-style order status; Shopify sandboxes derive open/closed/cancelled from it.
StatusValue = Literal[
    "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft"
]


@dataclass(frozen=True, slots=True)
class Product:
    """One catalogue product (one variant each, for simplicity)."""

    product_id: int
    variant_id: int
    sku: str
    title: str
    product_type: str  # e.g. "T-shirt"
    category: str  # one of ~20, e.g. "Apparel"
    vendor: str
    price: Decimal  # in the shop's base currency; converted for other currencies at fixed rates


@dataclass(frozen=True, slots=True)
class ShopCustomer:
    """A customer account in one shop."""

    key: int  # stable, dense, 1-based within the shop: the platform id derives from it
    email: str  # as typed by the customer: may have spaces/capitals; ~0.5% are invalid
    first_name: str | None
    last_name: str | None
    phone: str | None  # as the shop stores it: national or +international format, or None
    country: str | None  # ISO 3166-1 alpha-2
    region: str | None  # province/state code or name
    city: str | None
    postal_code: str | None
    address1: str | None
    company: str | None  # set for B2B customers
    locale: str | None  # e.g. "fr-FR"
    tags: tuple[str, ...]  # shop tags, e.g. ("loyalty-gold", "wholesale")
    consent: ConsentValue
    consent_updated_at: datetime | None  # None when never asked
    birthday: date | None  # kept by the shop as a metafield / meta key when known
    loyalty_tier: str | None  # kept as a metafield / meta key when known
    created_at: datetime
    updated_at: datetime
    is_staff: bool = False


@dataclass(frozen=True, slots=True)
class ShopLine:
    """One order or cart line."""

    product: Product
    quantity: int
    unit_price: Decimal  # in the order's currency, before discounts
    discount: Decimal = Decimal(0)  # total discount on the line, in the order's currency

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True, slots=True)
class ShopRefund:
    """A refund: an amount, optionally tied to returned lines (index into the order's lines, quantity)."""

    created_at: datetime
    amount: Decimal
    lines: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """An order. ``customer_key`` is None for a guest checkout; ``email`` is always the buyer's."""

    key: int  # stable, dense, 1-based within the shop
    number: int  # the human order number, e.g. 1001
    customer_key: int | None
    email: str
    currency: str  # ISO 4217, one of the shop's three
    status: StatusValue
    financial: FinancialValue
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    cancelled_at: datetime | None
    test: bool  # a test order placed by the merchant
    source_channel: Literal["web", "pos", "mobile"]
    discount_codes: tuple[str, ...]
    lines: tuple[ShopLine, ...]
    shipping: Decimal
    tax: Decimal
    refunds: tuple[ShopRefund, ...] = ()
    billing_country: str | None = None
    billing_city: str | None = None
    billing_postal_code: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # e.g. WooCommerce meta such as a consent opt-in

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def discount_total(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax

    @property
    def refunded_total(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))


@dataclass(frozen=True, slots=True)
class ShopCart:
    """An abandoned checkout; ``completed_at`` is set once it turned into an order."""

    key: int
    customer_key: int | None
    email: str
    currency: str
    token: str  # for the recovery URL
    lines: tuple[ShopLine, ...]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))
