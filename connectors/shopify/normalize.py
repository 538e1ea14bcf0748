"""Pure functions from raw Shopify payloads to canonical records.

Every record goes through :func:`connector.models.parse_record`; a record that cannot be used
becomes a :class:`~connector.protocols.QuarantineEntry` with its raw JSON, and the batch goes on.

Rules, decided once:

* **Ids**: ``make_id("shopify", <source name>, <numeric part of the gid>)``, e.g.
  ``gid://shopify/Customer/42`` in source ``acme`` -> ``shopify:acme:42``.
* **Money**: every amount is read from ``shopMoney``, so it is in the shop's currency, and the
  order's ``currency`` is ``Order.currencyCode`` ("the shop currency when the order was placed").
  The two must agree; an order whose shop money is in another currency is quarantined rather
  than mixed into totals. (Presentment money, what the buyer saw, is not read.) Carts have no
  currency field of their own and take ``totalPriceSet.shopMoney.currencyCode``.
* **Order status** (``cancelledAt`` wins, then the financial status, then fulfilment):
  cancelled -> cancelled; REFUNDED -> refunded; VOIDED -> cancelled; EXPIRED (authorisation
  lapsed, never captured) -> failed; PENDING, AUTHORIZED, PARTIALLY_PAID -> pending; PAID or
  PARTIALLY_REFUNDED -> completed when FULFILLED, on_hold when ON_HOLD, else processing.
* **Refunded quantity** of a line is ``quantity - currentQuantity`` (Shopify's current quantity
  excludes refunded *and* removed units, so order edits count as refunds here).
* **Birthday** stays ``None``: metafields are carried in ``attributes["namespace.key"]`` and the
  core maps them to profile fields by config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.errors import RecordError
from connector.models import (
    AttributeValue,
    Cart,
    ConsentState,
    Customer,
    FinancialStatus,
    Order,
    OrderStatus,
    make_id,
    parse_record,
)
from connector.quarantine import normalize_batch
from connectors.shopify.models import (
    MoneyBag,
    ShopifyAbandonedCheckout,
    ShopifyAddress,
    ShopifyCheckoutLineItem,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyMetafield,
    ShopifyOrder,
)

__all__ = [
    "NO_EMAIL", "consent_state", "financial_status", "native_id", "normalize_batch", "normalize_cart",
    "normalize_customer", "normalize_order", "order_status", "source_channel",
]

NO_EMAIL = "no email address: cannot be a contact"
CONSENT_SOURCE = "shopify:emailMarketingConsent"

_Amount = Callable[["MoneyBag | None", str], "str | None"]  # (money bag, field name) -> checked amount

# REDACTED: the customer's data was erased on request (GDPR redaction); INVALID: the address is not
# a deliverable mailbox for marketing. Neither may be emailed, and neither is an opt-out by the
# person, so both are "not subscribed" rather than "unsubscribed" (as is anything unknown).
_CONSENT = {"SUBSCRIBED": ConsentState.SUBSCRIBED, "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
            "PENDING": ConsentState.PENDING, "NOT_SUBSCRIBED": ConsentState.NOT_SUBSCRIBED,
            "REDACTED": ConsentState.NOT_SUBSCRIBED, "INVALID": ConsentState.NOT_SUBSCRIBED}
_CHANNELS = {"web": "web", "pos": "pos", "iphone": "mobile", "android": "mobile", "mobile": "mobile",
             "mobile_app": "mobile", "shopify_draft_order": "draft_order", "subscription_contract": "subscription"}


# --------------------------------------------------------------------------- small rules


def native_id(gid: str | None) -> str | None:
    """The numeric id of a Shopify gid: ``gid://shopify/Order/7?x=1`` -> ``"7"``; ``None`` stays ``None``."""
    if not gid:
        return None
    return gid.rsplit("/", 1)[-1].split("?", 1)[0] or None


def _ref(shop: str, gid: str | None) -> str | None:
    number = native_id(gid)
    return make_id("shopify", shop, number) if number else None


def consent_state(marketing_state: str | None) -> ConsentState:
    """Shopify's ``CustomerEmailMarketingState`` -> canonical consent; unknown or missing: not subscribed."""
    return _CONSENT.get((marketing_state or "").upper(), ConsentState.NOT_SUBSCRIBED)


def financial_status(display: str | None) -> FinancialStatus:
    """``displayFinancialStatus`` -> canonical financial status (same names, lower case)."""
    display = (display or "").lower()
    if display == "expired":  # an authorisation that lapsed before capture: no money moved, like a void
        return FinancialStatus.VOIDED
    try:
        return FinancialStatus(display)
    except ValueError:
        return FinancialStatus.UNKNOWN


def order_status(cancelled_at: str | None, financial: str | None, fulfillment: str | None) -> OrderStatus:
    """Where an order stands, from its cancellation, financial and fulfilment states (module docstring)."""
    financial = (financial or "").upper()
    if cancelled_at or financial == "VOIDED":
        return OrderStatus.CANCELLED
    if financial == "REFUNDED":
        return OrderStatus.REFUNDED
    if financial == "EXPIRED":
        return OrderStatus.FAILED
    if financial in ("PAID", "PARTIALLY_REFUNDED"):
        fulfillment = (fulfillment or "").upper()
        if fulfillment == "FULFILLED":
            return OrderStatus.COMPLETED
        if fulfillment == "ON_HOLD":
            return OrderStatus.ON_HOLD
        return OrderStatus.PROCESSING
    return OrderStatus.PENDING


def source_channel(source_name: str | None) -> str | None:
    """``Order.sourceName`` -> a channel: web, pos, mobile, draft_order, subscription, app, or as given."""
    if not source_name:
        return None
    name = source_name.strip().lower()
    if name.isdigit():  # an app's numeric API client id
        return "app"
    return _CHANNELS.get(name, name)


def _metafield_value(field: ShopifyMetafield) -> AttributeValue | None:
    value, kind = field.value, (field.type or "")
    if value is None:
        return None
    # A value that does not parse as its declared type is kept as text: the core decides.
    try:
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "date_time":
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "number_integer":
            return int(value)
        if kind == "number_decimal":
            return Decimal(value)
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    except (ValueError, InvalidOperation):
        return value
    return value


def _attributes(metafields: Iterable[ShopifyMetafield]) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    for field in metafields:
        value = _metafield_value(field)
        if field.namespace and field.key and value is not None:
            attributes[f"{field.namespace}.{field.key}"] = value
    return attributes


def _address(raw: ShopifyAddress | None) -> dict[str, str | None]:
    if raw is None:
        return {}
    return {"country": raw.country_code_v2, "region": raw.province_code or raw.province, "city": raw.city,
            "postal_code": raw.zip}


def _amount(bag: MoneyBag | None, currency: str | None, *, record_id: str, entity: str, field: str) -> str | None:
    """The shop-money amount of ``bag``, checked to be in ``currency``."""
    money = bag.shop_money if bag else None
    if money is None or money.amount is None:
        return None
    if currency and money.currency_code and money.currency_code.upper() != currency.upper():
        reason = f"amount in {money.currency_code} but the record's currency is {currency}; not mixed into totals"
        raise RecordError(record_id=record_id, entity=entity, field=field, reason=reason)
    return money.amount


def _drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    # Omitted keys take the canonical default (0 for optional money, () for lists).
    return {k: v for k, v in data.items() if v is not None}


# --------------------------------------------------------------------------- records


def normalize_customer(raw: ShopifyCustomer, shop: str) -> Customer:
    """A raw customer -> :class:`Customer`.

    Raises:
        RecordError: no email, or a field the canonical model refuses.
    """
    record_id = _ref(shop, raw.id) or "shopify:<no id>"
    if not (raw.email or "").strip():
        raise RecordError(record_id=record_id, entity="customer", field="email", reason=NO_EMAIL)
    consent = raw.email_marketing_consent
    address = raw.default_address
    opt_in = consent.marketing_opt_in_level if consent else None
    data = {
        "id": record_id,
        "email": raw.email,
        "first_name": raw.first_name,
        "last_name": raw.last_name,
        "phone": raw.phone,
        "address": _address(address),
        "company": address.company if address else None,
        "locale": raw.locale,
        "tags": tuple(raw.tags or ()),
        "created_at": raw.created_at,
        "updated_at": raw.updated_at,
        "consent": {
            "state": consent_state(consent.marketing_state if consent else None),
            "updated_at": consent.consent_updated_at if consent else None,
            "source": CONSENT_SOURCE,
            "opt_in_level": opt_in.lower() if opt_in else None,
        },
        "attributes": _attributes(raw.metafields),
    }
    return parse_record(Customer, _drop_none(data), record_id=record_id)


def _line(raw: ShopifyLineItem | ShopifyCheckoutLineItem, amount: _Amount) -> dict[str, Any]:
    """An order or checkout line; ``amount`` reads shop money checked against the record's currency."""
    product, quantity = raw.product, raw.quantity
    refunded = None
    if quantity is not None and raw.current_quantity is not None:
        refunded = max(0, quantity - raw.current_quantity)
    return _drop_none({
        "line_id": native_id(raw.id),
        "product_id": native_id(product.id) if product else None,
        "variant_id": native_id(raw.variant.id) if raw.variant else None,
        "sku": raw.sku,
        "title": raw.title,
        "product_type": product.product_type if product else None,
        "vendor": raw.vendor or (product.vendor if product else None),
        "quantity": quantity,
        "unit_price": amount(raw.original_unit_price_set, "unit_price"),
        "total": amount(raw.discounted_total_set, "total"),
        "refunded_quantity": refunded,
    })


def normalize_order(raw: ShopifyOrder, shop: str) -> Order:
    """A raw order -> :class:`Order`. Guest orders (no customer) keep the buyer's email.

    Raises:
        RecordError: a field the canonical model refuses, or shop money in a foreign currency.
    """
    record_id = _ref(shop, raw.id) or "shopify:<no id>"
    currency = raw.currency_code

    def amount(bag: MoneyBag | None, field: str) -> str | None:
        return _amount(bag, currency, record_id=record_id, entity="order", field=field)

    data = {
        "id": record_id,
        "customer_id": _ref(shop, raw.customer.id) if raw.customer else None,
        "email": (raw.email or "").strip() or None,
        "number": raw.name,
        "status": order_status(raw.cancelled_at, raw.display_financial_status, raw.display_fulfillment_status),
        "financial_status": financial_status(raw.display_financial_status),
        "currency": currency,
        "subtotal": amount(raw.subtotal_price_set, "subtotal"),
        "discount_total": amount(raw.total_discounts_set, "discount_total"),
        "shipping_total": amount(raw.total_shipping_price_set, "shipping_total"),
        "tax_total": amount(raw.total_tax_set, "tax_total"),
        "total": amount(raw.total_price_set, "total"),
        "refunded_total": amount(raw.total_refunded_set, "refunded_total"),
        "discount_codes": tuple(raw.discount_codes or ()),
        "source_channel": source_channel(raw.source_name),
        "test": raw.test,
        "created_at": raw.created_at,
        "updated_at": raw.updated_at,
        "processed_at": raw.processed_at,
        "cancelled_at": raw.cancelled_at,
        "billing_address": _address(raw.billing_address),
        "line_items": tuple(_line(line, lambda b, f: amount(b, f"line_items.{f}")) for line in raw.line_items.nodes),
    }
    return parse_record(Order, _drop_none(data), record_id=record_id)


def normalize_cart(raw: ShopifyAbandonedCheckout, shop: str) -> Cart:
    """A raw abandoned checkout -> :class:`Cart`; its email is the customer's.

    Raises:
        RecordError: no email, or a field the canonical model refuses.
    """
    record_id = _ref(shop, raw.id) or "shopify:<no id>"
    customer = raw.customer
    if not (customer and (customer.email or "").strip()):
        raise RecordError(record_id=record_id, entity="cart", field="email", reason=NO_EMAIL)
    total = raw.total_price_set.shop_money if raw.total_price_set else None
    currency = total.currency_code if total else None

    def amount(bag: MoneyBag | None, field: str) -> str | None:
        return _amount(bag, currency, record_id=record_id, entity="cart", field=f"items.{field}")

    data = {
        "id": record_id,
        "customer_id": _ref(shop, customer.id),
        "email": customer.email,
        "items": tuple(_line(line, amount) for line in raw.line_items.nodes),
        "value": total.amount if total else None,
        "currency": currency,
        "created_at": raw.created_at,
        "updated_at": raw.updated_at,
        "completed_at": raw.completed_at,
        "recovery_url": raw.abandoned_checkout_url,
    }
    return parse_record(Cart, _drop_none(data), record_id=record_id)
