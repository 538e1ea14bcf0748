"""Pure functions from raw WooCommerce payloads to canonical records.

A record that cannot be used raises :class:`~connector.errors.RecordError` (record, field, reason)
and is quarantined with its raw JSON by :func:`connector.quarantine.normalize_batch`; options are
bound with :func:`functools.partial`, e.g. ``partial(normalize_customer, options=options)``.

Rules, decided once:

* **Ids**: ``make_id("woocommerce", <shop>, <id>)``. A guest buyer (``customer_id`` 0) is a customer
  keyed by the normalised billing email, ``woocommerce:<shop>:guest:<sha256 of it, 20 hex digits>``
  (:func:`guest_customer_id`), and every order of that guest links to it. A cart is an unpaid order
  and keeps the order's id (carts and orders are separate tables).
* **Dates**: only ``*_gmt`` is read; a naive value is UTC, an offset is honoured. The site-local
  ``date_*`` is never used: a record that has it without its ``*_gmt`` twin is quarantined naming
  the ``*_gmt`` field (we do not guess the site's timezone). ``date_modified_gmt`` null: the
  creation date. ``processed_at`` is ``date_paid_gmt``; ``cancelled_at`` is ``date_modified_gmt``
  of a cancelled or trashed order.
* **Money** is parsed exactly with ``Decimal`` from the strings. An amount that is not a finite
  number, or is beyond 100 trillion (the store keeps exact ten-thousandths in 64 bits), quarantines
  the record naming the field (``total``, ``line_items[2].total``, ``refunds[0].total``).
  ``subtotal`` is the sum of the line totals; ``tax_total`` is ``total_tax``; ``refunded_total``
  the sum of |refund total|, and an order refunded beyond its total is quarantined. A line's
  ``unit_price`` is ``subtotal / quantity`` (before discounts) to 4 places, half-even, 0 when the
  quantity is 0; ``total`` is the line total after discounts. ``refunded_quantity`` stays 0: the
  order payload says how much was refunded, not which lines (that is ``/orders/<id>/refunds``).
* **Order status**: pending, processing, on-hold, completed, cancelled, refunded, failed map to
  their names; checkout-draft -> draft; trash -> cancelled; any other (a plugin's) status ->
  processing if paid, else pending. The raw status is kept in ``attributes["woocommerce.status"]``.
* **Financial status**, first match: status refunded, or refunds >= total > 0 -> refunded;
  refunds > 0 -> partially_refunded; cancelled or trash -> voided; paid (``date_paid_gmt`` set or
  status processing/completed) -> paid; else pending.
* **Channel** from ``created_via``: checkout, store-api -> web; pos -> pos; rest-api -> api;
  admin -> admin; anything else as given, lower-cased.
* **Emails**: a customer's is ``email``, else ``billing.email``; none quarantines the customer. An
  order's is the billing email, normalised, or ``None`` when missing or invalid (the order still
  counts, and a guest order then has no customer). A cart without a valid billing email is
  quarantined: there is nobody to remind.
* **People**: names fall back to billing's; phone is billing's; the address (country, state as
  region, city, postcode) is billing's when it has any of those, else shipping's; company billing's,
  else shipping's; ``is_staff`` for roles administrator and shop_manager.
* **Attributes**: every ``meta_data`` entry with a scalar value, keyed by its meta key as is
  (``_``-prefixed WordPress keys too); str, int and bool kept, float as ``Decimal(str(x))``; for a
  repeated key the last entry wins, and if that one is an object, array or null the key is left out.
* **Consent** (WooCommerce core records none) comes from the configured meta key, in the customer's
  meta, or for a guest in the order's meta. The value, stripped and lower-cased (a bool as
  true/false), is looked up in the unsubscribed, subscribed, then pending values (an unsubscribe
  wins a value listed twice). Anything else, no such meta, or no key configured: not subscribed,
  since nobody is subscribed without evidence. ``source`` is ``woocommerce:meta:<key>`` when the meta
  was found, else ``woocommerce:default``. ``updated_at`` is read, when the consent meta was found,
  from the configured date meta key: ISO 8601 (naive = UTC) or unix seconds; failing that, an
  order's creation date for a guest and ``None`` for a customer. An unreadable date is dropped and
  reported in ``Customer.issues``.
* **Carts** (:func:`is_cart`): orders in pending, failed or checkout-draft, and cancelled ones never
  paid (WooCommerce's hold-stock timer cancels abandoned unpaid orders). ``completed_at`` is
  ``date_paid_gmt``: a cart paid later is recovered. ``recovery_url`` is ``payment_url``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from pydantic import JsonValue

from connector.errors import RecordError
from connector.models import (
    AttributeValue,
    Cart,
    ConsentState,
    Customer,
    FieldIssue,
    FinancialStatus,
    Order,
    OrderStatus,
    make_id,
    normalize_email,
    parse_record,
)
from connectors.woocommerce.models import PLATFORM, WooAddress, WooCustomer, WooLineItem, WooMeta, WooOrder
from connectors.woocommerce.settings import WooCommerceSettings

__all__ = [
    "NO_EMAIL", "STATUS_ATTRIBUTE", "NormalizeOptions", "consent_date", "consent_state", "financial_status",
    "guest_customer", "guest_customer_id", "is_cart", "normalize_cart", "normalize_customer", "normalize_order",
    "order_status", "source_channel",
]

NO_EMAIL = "no email address: cannot be a contact"
STATUS_ATTRIBUTE = "woocommerce.status"
DEFAULT_CONSENT_SOURCE = "woocommerce:default"
STAFF_ROLES = frozenset({"administrator", "shop_manager"})

_STATUSES = {
    "pending": OrderStatus.PENDING, "processing": OrderStatus.PROCESSING, "on-hold": OrderStatus.ON_HOLD,
    "completed": OrderStatus.COMPLETED, "cancelled": OrderStatus.CANCELLED, "refunded": OrderStatus.REFUNDED,
    "failed": OrderStatus.FAILED, "checkout-draft": OrderStatus.DRAFT, "trash": OrderStatus.CANCELLED,
}
_CHANNELS = {"checkout": "web", "store-api": "web", "pos": "pos", "rest-api": "api", "admin": "admin"}
_CART_STATUSES = frozenset({"pending", "failed", "checkout-draft"})
_CANCELLED = frozenset({"cancelled", "trash"})
_FOUR_PLACES = Decimal("0.0001")
_MAX_AMOUNT = Decimal(10) ** 14  # x 10,000 still fits a signed 64-bit integer, as the store keeps it
_UNIX_SECONDS = re.compile(r"\d+(\.\d+)?")
_NO_ADDRESS = WooAddress()
_LOCAL_ONLY = ("only the site-local time is given, and we do not guess the site's timezone; "
               "WooCommerce sends *_gmt with every date, so check plugins that rewrite API responses")


def _lowered(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values if v.strip())


def _setting(name: str) -> Any:
    return WooCommerceSettings.model_fields[name].default


@dataclass(frozen=True)
class NormalizeOptions:
    """What normalising a shop's records depends on, from :class:`WooCommerceSettings`.

    Value sets are compared stripped and lower-cased; a blank meta key means none.
    """

    consent_meta_key: str | None = None
    consent_date_meta_key: str | None = None
    subscribed_values: frozenset[str] = _lowered(_setting("consent_subscribed_values"))
    unsubscribed_values: frozenset[str] = _lowered(_setting("consent_unsubscribed_values"))
    pending_values: frozenset[str] = _lowered(_setting("consent_pending_values"))
    cart_delay: timedelta = timedelta(minutes=_setting("cart_delay_minutes"))

    def __post_init__(self) -> None:
        for name in ("subscribed_values", "unsubscribed_values", "pending_values"):
            object.__setattr__(self, name, _lowered(getattr(self, name)))
        for name in ("consent_meta_key", "consent_date_meta_key"):
            object.__setattr__(self, name, _text(getattr(self, name)))

    @classmethod
    def from_settings(cls, settings: WooCommerceSettings) -> NormalizeOptions:
        return cls(consent_meta_key=settings.consent_meta_key, consent_date_meta_key=settings.consent_date_meta_key,
                   subscribed_values=frozenset(settings.consent_subscribed_values),
                   unsubscribed_values=frozenset(settings.consent_unsubscribed_values),
                   pending_values=frozenset(settings.consent_pending_values),
                   cart_delay=timedelta(minutes=settings.cart_delay_minutes))


# --------------------------------------------------------------------------- small rules


def order_status(status: str, paid: bool) -> OrderStatus:
    """A WooCommerce status (``on-hold``, ``checkout-draft``, a plugin's own) -> canonical status."""
    known = _STATUSES.get(status.strip().lower())
    if known is not None:
        return known
    return OrderStatus.PROCESSING if paid else OrderStatus.PENDING


def financial_status(status: str, paid: bool, total: Decimal, refunded: Decimal) -> FinancialStatus:
    """The money side of an order, from its status, payment and refunds (module docstring)."""
    status = status.strip().lower()
    if status == "refunded" or (refunded > 0 and refunded >= total):
        return FinancialStatus.REFUNDED
    if refunded > 0:
        return FinancialStatus.PARTIALLY_REFUNDED
    if status in _CANCELLED:
        return FinancialStatus.VOIDED
    return FinancialStatus.PAID if paid else FinancialStatus.PENDING


def source_channel(created_via: str | None) -> str | None:
    """``created_via`` -> web, pos, api, admin, or the value as given (lower-cased)."""
    name = (created_via or "").strip().lower()
    return _CHANNELS.get(name, name) or None


def is_cart(raw: WooOrder) -> bool:
    """Whether an order is an (abandoned or recovered) checkout rather than a sale."""
    status = (raw.status or "").strip().lower()
    return status in _CART_STATUSES or (status == "cancelled" and not raw.date_paid_gmt and not raw.date_paid)


def guest_customer_id(shop: str, email: str) -> str:
    """The id of a guest buyer: ``woocommerce:<shop>:guest:<first 20 hex digits of sha256(normalised email)>``.

    Stable for the same address however it was typed, and not the address itself: ids appear in
    logs, quarantine rows and error messages, which must not carry a customer's email.

    Raises:
        ValueError: ``email`` is not a valid email address.
    """
    digest = hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()[:20]
    return make_id(PLATFORM, shop, f"guest:{digest}")


def consent_state(value: JsonValue, options: NormalizeOptions) -> ConsentState:
    """A consent meta value -> consent state; anything unrecognised is ``not_subscribed``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value).strip().lower()
    else:
        return ConsentState.NOT_SUBSCRIBED
    for values, state in ((options.unsubscribed_values, ConsentState.UNSUBSCRIBED),
                          (options.subscribed_values, ConsentState.SUBSCRIBED),
                          (options.pending_values, ConsentState.PENDING)):
        if text in values:
            return state
    return ConsentState.NOT_SUBSCRIBED


def consent_date(value: JsonValue) -> datetime | None:
    """An ISO 8601 date (naive = UTC) or unix seconds -> UTC datetime; ``None`` if it is neither."""
    try:
        if isinstance(value, str) and not _UNIX_SECONDS.fullmatch(value.strip()):
            return _as_utc(datetime.fromisoformat(value.strip()))
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        pass
    return None


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _meta(entries: Iterable[WooMeta]) -> dict[str, JsonValue]:
    return {entry.key: entry.value for entry in entries if entry.key}


def _attributes(meta: Mapping[str, JsonValue]) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    for key, value in meta.items():
        if isinstance(value, bool | int | str):
            attributes[key] = value
        elif isinstance(value, float) and math.isfinite(value):
            attributes[key] = Decimal(str(value))
    return attributes


def _consent(
    meta: Mapping[str, JsonValue], options: NormalizeOptions, fallback: datetime | None
) -> tuple[dict[str, Any], tuple[FieldIssue, ...]]:
    key = options.consent_meta_key
    if key is None or key not in meta:
        return {"state": ConsentState.NOT_SUBSCRIBED, "source": DEFAULT_CONSENT_SOURCE}, ()
    consent = {"state": consent_state(meta[key], options), "source": f"woocommerce:meta:{key}", "updated_at": fallback}
    date_key = options.consent_date_meta_key
    if date_key is None or meta.get(date_key) in (None, ""):
        return consent, ()
    when = consent_date(meta[date_key])
    if when is None:
        reason = "neither an ISO 8601 date nor unix seconds; the consent date was dropped, the consent kept"
        return consent, (FieldIssue(field=f"meta_data.{date_key}", reason=reason),)
    return {**consent, "updated_at": when}, ()


def _address(a: WooAddress) -> dict[str, str | None]:
    return {"country": a.country, "region": a.state, "city": a.city, "postal_code": a.postcode}


def _contact(billing: WooAddress | None, shipping: WooAddress | None) -> dict[str, Any]:
    """Phone, address and company of a person: billing's, else shipping's (module docstring)."""
    billing, shipping = billing or _NO_ADDRESS, shipping or _NO_ADDRESS
    address = _address(billing)
    if not any(_text(v) for v in address.values()):
        address = _address(shipping)
    return {"phone": _text(billing.phone), "address": address, "company": _text(billing.company) or shipping.company}


def _drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


# --------------------------------------------------------------------------- checked reads


@dataclass(frozen=True)
class _Reader:
    """Reads dates and money of one record, raising :class:`RecordError` that names the field."""

    record_id: str
    entity: str

    def fail(self, field: str | None, reason: str) -> RecordError:
        return RecordError(record_id=self.record_id, entity=self.entity, field=field, reason=reason)

    def date(self, raw: WooCustomer | WooOrder, name: str) -> datetime | None:
        """``<name>_gmt`` as UTC; ``None`` if absent (an error if only the site-local ``<name>`` is there)."""
        value = _text(getattr(raw, f"{name}_gmt"))
        if value is None:
            if _text(getattr(raw, name)):
                raise self.fail(f"{name}_gmt", _LOCAL_ONLY)
            return None
        try:
            return _as_utc(datetime.fromisoformat(value))
        except ValueError:
            raise self.fail(f"{name}_gmt", "not an ISO 8601 date-time such as 2024-05-01T10:00:00") from None

    def dates(self, raw: WooCustomer | WooOrder) -> tuple[datetime, datetime]:
        """``created_at`` (required) and ``updated_at`` (``date_modified_gmt``, else the creation date)."""
        created = self.date(raw, "date_created")
        if created is None:
            raise self.fail("date_created_gmt", "required field is missing")
        return created, self.date(raw, "date_modified") or created

    def money(self, value: str | None, field: str) -> Decimal | None:
        text = _text(value)
        if text is None:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise self.fail(field, f"{text[:40]!r} is not an amount; expected a decimal number such as '17.50'")
        return self.bounded(amount, field)

    def bounded(self, amount: Decimal, field: str) -> Decimal:
        if abs(amount) >= _MAX_AMOUNT:
            raise self.fail(field, f"{amount} is beyond 100 trillion, more than the store can keep exactly")
        return amount

    def lines(self, raw: WooOrder) -> tuple[dict[str, Any], ...]:
        return tuple(self.line(line, f"line_items[{i}]") for i, line in enumerate(raw.line_items))

    def line(self, line: WooLineItem, where: str) -> dict[str, Any]:
        subtotal = self.money(line.subtotal, f"{where}.subtotal")
        total = self.money(line.total, f"{where}.total")
        base = subtotal if subtotal is not None else total
        unit = None
        if line.quantity is not None and base is not None:
            unit = Decimal(0) if line.quantity == 0 else (base / line.quantity).quantize(_FOUR_PLACES, ROUND_HALF_EVEN)
        return _drop_none({
            "line_id": str(line.id) if line.id is not None else None,
            "product_id": str(line.product_id) if line.product_id else None,
            "variant_id": str(line.variation_id) if line.variation_id else None,
            "sku": line.sku,
            "title": line.name or "",
            "quantity": line.quantity,
            "unit_price": unit,
            "total": total,
        })


def _order_email(raw: WooOrder) -> str | None:
    try:
        return normalize_email(raw.billing.email) if raw.billing and raw.billing.email else None
    except ValueError:
        return None


def _buyer_id(raw: WooOrder, shop: str, email: str | None) -> str | None:
    if raw.customer_id > 0:
        return make_id(PLATFORM, shop, raw.customer_id)
    return guest_customer_id(shop, email) if email else None


# --------------------------------------------------------------------------- records


def normalize_customer(raw: WooCustomer, shop: str, options: NormalizeOptions) -> Customer:
    """A registered customer -> :class:`Customer`; raises :class:`RecordError` for an unusable record."""
    read = _Reader(make_id(PLATFORM, shop, raw.id), "customer")
    billing = raw.billing or _NO_ADDRESS
    email = _text(raw.email) or _text(billing.email)
    if not email:
        raise read.fail("email", NO_EMAIL)
    created, updated = read.dates(raw)
    meta = _meta(raw.meta_data)
    consent, issues = _consent(meta, options, None)
    data = {
        "id": read.record_id,
        "email": email,
        "first_name": _text(raw.first_name) or billing.first_name,
        "last_name": _text(raw.last_name) or billing.last_name,
        **_contact(raw.billing, raw.shipping),
        "created_at": created,
        "updated_at": updated,
        "consent": consent,
        "is_staff": (raw.role or "").strip().lower() in STAFF_ROLES,
        "attributes": _attributes(meta),
        "issues": issues,
    }
    return parse_record(Customer, _drop_none(data), record_id=read.record_id)


def normalize_order(raw: WooOrder, shop: str, options: NormalizeOptions) -> Order:
    """An order in any status -> :class:`Order`; raises :class:`RecordError` for an unusable record.

    ``options`` is unused: every ``normalize_*`` takes the same arguments.
    """
    read = _Reader(make_id(PLATFORM, shop, raw.id), "order")
    status = _text(raw.status)
    if status is None:
        raise read.fail("status", "required field is missing")
    created, updated = read.dates(raw)
    lines = read.lines(raw)
    paid_at = read.date(raw, "date_paid")
    total = read.money(raw.total, "total")
    refunded = read.bounded(sum((abs(read.money(r.total, f"refunds[{i}].total") or 0)
                                 for i, r in enumerate(raw.refunds)), Decimal(0)), "refunds")
    if total is not None and refunded > total:
        raise read.fail("refunds", f"refunds add up to {refunded}, more than the order total {total}; "
                                   "check the order's refunds in WooCommerce")
    subtotal = read.bounded(sum((line.get("total", 0) for line in lines), Decimal(0)), "line_items")
    paid = paid_at is not None or status.lower() in ("processing", "completed")
    email = _order_email(raw)
    data = {
        "id": read.record_id,
        "customer_id": _buyer_id(raw, shop, email),
        "email": email,
        "number": raw.number,
        "status": order_status(status, paid),
        "financial_status": financial_status(status, paid, total or Decimal(0), refunded),
        "currency": raw.currency,
        "subtotal": subtotal,
        "discount_total": read.money(raw.discount_total, "discount_total"),
        "shipping_total": read.money(raw.shipping_total, "shipping_total"),
        "tax_total": read.money(raw.total_tax, "total_tax"),
        "total": total,
        "refunded_total": refunded,
        "discount_codes": tuple(code for c in raw.coupon_lines if (code := _text(c.code))),
        "source_channel": source_channel(raw.created_via),
        "created_at": created,
        "updated_at": updated,
        "processed_at": paid_at,
        "cancelled_at": updated if status.lower() in _CANCELLED else None,
        "billing_address": _address(raw.billing or _NO_ADDRESS),
        "line_items": lines,
        "attributes": {**_attributes(_meta(raw.meta_data)), STATUS_ATTRIBUTE: status},
    }
    return parse_record(Order, _drop_none(data), record_id=read.record_id)


def guest_customer(raw: WooOrder, shop: str, options: NormalizeOptions) -> Customer | None:
    """The guest buyer of an order as a :class:`Customer`; ``None`` for a registered customer's order.

    The guest's consent evidence is the order's meta; its dates are the order's. A missing or invalid
    billing email raises :class:`RecordError` for record ``woocommerce:<shop>:guest:order:<order id>``.
    """
    if raw.customer_id > 0:
        return None
    read = _Reader(make_id(PLATFORM, shop, f"guest:order:{raw.id}"), "customer")
    billing = raw.billing or _NO_ADDRESS
    email = _text(billing.email)
    if not email:
        raise read.fail("billing.email", f"guest order with {NO_EMAIL}")
    try:
        customer_id = guest_customer_id(shop, email)
    except ValueError as exc:
        raise read.fail("billing.email", f"{exc}: the guest buyer cannot be a contact") from None
    created, updated = read.dates(raw)
    consent, issues = _consent(_meta(raw.meta_data), options, created)
    data = {
        "id": customer_id,
        "email": email,
        "first_name": billing.first_name,
        "last_name": billing.last_name,
        **_contact(raw.billing, raw.shipping),
        "created_at": created,
        "updated_at": updated,
        "consent": consent,
        "issues": issues,
    }
    return parse_record(Customer, _drop_none(data), record_id=customer_id)


def normalize_cart(raw: WooOrder, shop: str, options: NormalizeOptions) -> Cart:
    """An unpaid (or since paid) order -> :class:`Cart`, see :func:`is_cart`; raises :class:`RecordError`."""
    read = _Reader(make_id(PLATFORM, shop, raw.id), "cart")
    email = _text((raw.billing or _NO_ADDRESS).email)
    if not email:
        raise read.fail("billing.email", NO_EMAIL)
    try:
        email = normalize_email(email)
    except ValueError as exc:
        raise read.fail("billing.email", f"{exc}: cannot be a contact") from None
    created, updated = read.dates(raw)
    data = {
        "id": read.record_id,
        "customer_id": _buyer_id(raw, shop, email),
        "email": email,
        "items": read.lines(raw),
        "value": read.money(raw.total, "total"),
        "currency": raw.currency,
        "created_at": created,
        "updated_at": updated,
        "completed_at": read.date(raw, "date_paid"),
        "recovery_url": raw.payment_url,
    }
    return parse_record(Cart, _drop_none(data), record_id=read.record_id)
