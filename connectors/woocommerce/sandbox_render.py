"""Shop records as WooCommerce 11 renders them in ``wc/v3``: every field, in its order, with its JSON type.

The shapes follow real responses captured from WooCommerce 11.0.1 (HPOS): money as strings with
``dp`` decimals (refund totals negative), a line item's ``price`` as a JSON number, dates twice
(site-local and GMT, both naive ``YYYY-MM-DDTHH:MM:SS``), ``null`` dates for what has not happened,
an empty string for every unknown address field. Customers' and orders' ``_links`` are built apart
(:func:`customer_links`, :func:`order_links`) because WordPress adds them after ``_fields``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connector.sandbox.records import ShopCustomer, ShopLine, ShopOrder
from connectors.woocommerce.sandbox_ids import (
    admin_email,
    customer_id,
    item_id,
    meta_id,
    order_id,
    refund_id,
    username,
)
from connectors.woocommerce.sandbox_index import CustomerRow

__all__ = ["RenderContext", "customer_links", "render_admin", "render_customer", "render_order", "order_links",
           "wc_date"]

WC_VERSION = "11.0.1"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$", "JPY": "¥", "CHF": "CHF"}
_UNPAID = frozenset({"pending", "failed", "checkout-draft", "on-hold"})
_CONSENT_META = {"subscribed": "yes", "unsubscribed": "unsubscribed", "pending": "pending"}
_TAX_COUNTRIES = ("US", "FR", "GB", "DE", "ES", "IT", "CA", "BE")
_ALLOW = {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_STEPS: dict[int, Decimal] = {2: _CENT}
_DESKTOP_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0 Safari/537.36")
_GATEWAYS = (("stripe", "Credit Card (Stripe)"), ("stripe", "Credit Card (Stripe)"), ("ppcp-gateway", "PayPal"),
             ("bacs", "Direct bank transfer"))
_ORDER_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs beyond the record: the site's address and time zone, and ``dp``."""

    root: str  # e.g. https://shop.test (WordPress's home URL as the request reached it)
    tz: ZoneInfo
    shop_name: str = "sandbox"
    dp: int = 2


def wc_date(when: datetime | None, tz: ZoneInfo | None) -> str | None:
    """A WooCommerce date: naive ``YYYY-MM-DDTHH:MM:SS`` in ``tz`` (None: GMT), or None."""
    if when is None:
        return None
    return when.astimezone(tz or UTC).isoformat(timespec="seconds")[:19]


def _money(amount: Decimal, dp: int) -> str:
    step = _STEPS.get(dp) or _STEPS.setdefault(dp, Decimal(1).scaleb(-dp))
    return str(amount.quantize(step, rounding=ROUND_HALF_UP))


def _raw(amount: Decimal) -> str:
    """A stored amount as WooCommerce keeps it in item meta: no trailing zeros."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _number(amount: Decimal) -> int | float:
    """A PHP number from a division: an int when whole, else a float."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# -- customers ---------------------------------------------------------------------------------------------
def render_customer(customer: ShopCustomer, *, paying: bool, ctx: RenderContext) -> dict[str, Any]:
    """A customer as ``GET /customers/{id}`` returns it, without ``_links``."""
    uid = customer_id(customer.key)
    first, last = customer.first_name or "", customer.last_name or ""
    address = {"first_name": first, "last_name": last, "company": customer.company or "",
               "address_1": customer.address1 or "", "address_2": "", "city": customer.city or "",
               "postcode": customer.postal_code or "", "country": customer.country or "",
               "state": customer.region or ""}
    return {
        "id": uid,
        "date_created": wc_date(customer.created_at, ctx.tz),
        "date_created_gmt": wc_date(customer.created_at, None),
        "date_modified": wc_date(customer.updated_at, ctx.tz),
        "date_modified_gmt": wc_date(customer.updated_at, None),
        "email": customer.email,
        "first_name": first,
        "last_name": last,
        "role": "shop_manager" if customer.is_staff else "customer",
        "username": username(customer),
        "billing": {**address, "email": customer.email, "phone": customer.phone or ""},
        "shipping": {**address, "phone": ""},
        "is_paying_customer": paying,
        "avatar_url": _avatar(customer.email),
        "meta_data": _customer_meta(customer),
    }


def _customer_meta(customer: ShopCustomer) -> list[dict[str, Any]]:
    uid = customer_id(customer.key)
    meta: list[tuple[int, str, str]] = []
    if customer.consent in _CONSENT_META:
        meta.append((1, "_newsletter_optin", _CONSENT_META[customer.consent]))
        if customer.consent_updated_at is not None:
            meta.append((2, "_newsletter_optin_date",
                         customer.consent_updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    if customer.birthday is not None:
        meta.append((3, "birthday", customer.birthday.isoformat()))
    if customer.loyalty_tier:
        meta.append((4, "loyalty_tier", customer.loyalty_tier))
    meta.append((5, "wc_last_active", str(int(customer.updated_at.timestamp()))))
    return [{"id": meta_id(uid, slot), "key": key, "value": value} for slot, key, value in meta]


def render_admin(row: CustomerRow, ctx: RenderContext) -> dict[str, Any]:
    """The site's administrator (user 1), as the customers endpoint shows it with ``role=all``."""
    registered = datetime(2000, 1, 1, tzinfo=UTC).timestamp() + row.registered
    when = datetime.fromtimestamp(registered, UTC)
    email = admin_email(ctx.shop_name)
    blank = {"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
             "postcode": "", "country": "", "state": ""}
    return {
        "id": 1, "date_created": wc_date(when, ctx.tz), "date_created_gmt": wc_date(when, None),
        "date_modified": wc_date(when, ctx.tz), "date_modified_gmt": wc_date(when, None), "email": email,
        "first_name": "", "last_name": "", "role": "administrator", "username": row.login,
        "billing": {**blank, "email": "", "phone": ""}, "shipping": {**blank, "phone": ""},
        "is_paying_customer": False, "avatar_url": _avatar(email), "meta_data": [],
    }


def _avatar(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g"


def customer_links(uid: int, ctx: RenderContext) -> dict[str, Any]:
    base = f"{ctx.root}/wp-json/wc/v3/customers"
    return {"self": [{"href": f"{base}/{uid}", "targetHints": _ALLOW}], "collection": [{"href": base}]}


# -- orders ------------------------------------------------------------------------------------------------
def render_order(order: ShopOrder, customer: ShopCustomer | None, ctx: RenderContext) -> dict[str, Any]:
    """An order as ``GET /orders/{id}`` returns it, without ``_links``."""
    oid, dp = order_id(order.key), ctx.dp
    line_totals = [line.total for line in order.lines]
    line_tax = _split(order.tax, line_totals)
    subtotal = sum(line_totals, _ZERO)
    total = subtotal + order.shipping + order.tax
    # Paid once it left the unpaid statuses with a payment time (a voided authorisation included).
    date_paid = order.processed_at if order.status not in _UNPAID else None
    paid = date_paid is not None
    date_completed = None
    if order.status == "completed":
        date_completed = min([order.updated_at, *(r.created_at for r in order.refunds)])
    method, title = _payment(order)
    key = _order_key(ctx.shop_name, order.key)
    billing, shipping = _addresses(order, customer)
    return {
        "id": oid,
        "parent_id": 0,
        "status": order.status,
        "currency": order.currency,
        "version": WC_VERSION,
        "prices_include_tax": False,
        "date_created": wc_date(order.created_at, ctx.tz),
        "date_modified": wc_date(order.updated_at, ctx.tz),
        "discount_total": _money(order.discount_total, dp),
        "discount_tax": _money(_ZERO, dp),
        "shipping_total": _money(order.shipping, dp),
        "shipping_tax": _money(_ZERO, dp),
        "cart_tax": _money(order.tax, dp),
        "total": _money(total, dp),
        "total_tax": _money(order.tax, dp),
        "customer_id": customer_id(order.customer_key) if order.customer_key else 0,
        "order_key": key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": method,
        "payment_method_title": title,
        "transaction_id": f"ch_{hashlib.md5(key.encode()).hexdigest()[:24]}" if paid and method == "stripe" else "",  # noqa: S324
        "customer_ip_address": "" if order.source_channel == "pos" else f"203.0.113.{order.key % 254 + 1}",
        "customer_user_agent": _DESKTOP_AGENT if order.source_channel == "web" else "",
        "created_via": {"web": "checkout", "pos": "pos", "mobile": "rest-api"}[order.source_channel],
        "customer_note": "",
        "date_completed": wc_date(date_completed, ctx.tz),
        "date_paid": wc_date(date_paid, ctx.tz),
        "cart_hash": hashlib.md5(key.encode()).hexdigest() if order.source_channel == "web" else "",  # noqa: S324
        "number": str(oid),
        "meta_data": _order_meta(order),
        "line_items": [_line_item(order.key, i, line, line_tax[i], _tax_rate_id(order), dp)
                       for i, line in enumerate(order.lines)],
        "tax_lines": _tax_lines(order, subtotal, dp),
        "shipping_lines": _shipping_lines(order, dp),
        "fee_lines": [],
        "coupon_lines": _coupon_lines(order, dp),
        "refunds": [{"id": refund_id(order.key, i), "reason": "", "total": "-" + _money(refund.amount, dp)}
                    for i, refund in sorted(enumerate(order.refunds), key=lambda p: (p[1].created_at, p[0]),
                                            reverse=True)],
        "payment_url": f"{ctx.root}/checkout/order-pay/{oid}/?pay_for_order=true&key={key}",
        "is_editable": order.status in ("pending", "on-hold"),
        "needs_payment": order.status in ("pending", "failed", "checkout-draft") and total > 0,
        "needs_processing": True,
        "date_created_gmt": wc_date(order.created_at, None),
        "date_modified_gmt": wc_date(order.updated_at, None),
        "date_completed_gmt": wc_date(date_completed, None),
        "date_paid_gmt": wc_date(date_paid, None),
        "currency_symbol": _SYMBOLS.get(order.currency, order.currency),
    }


def order_links(order: ShopOrder, ctx: RenderContext) -> dict[str, Any]:
    base = f"{ctx.root}/wp-json/wc/v3"
    self_href = f"{base}/orders/{order_id(order.key)}"
    links: dict[str, Any] = {
        "self": [{"href": self_href, "targetHints": _ALLOW}],
        "collection": [{"href": f"{base}/orders"}],
        "email_templates": [{"embeddable": True, "href": f"{self_href}/actions/email_templates"}],
    }
    if order.customer_key:
        links["customer"] = [{"href": f"{base}/customers/{customer_id(order.customer_key)}"}]
    return links


def _addresses(order: ShopOrder, customer: ShopCustomer | None) -> tuple[dict[str, str], dict[str, str]]:
    """Billing from the order (email, country, city, postcode) and the customer when known; shipping alike."""
    same_place = customer is not None and customer.city == order.billing_city
    first = (customer.first_name or "") if customer else ""
    last = (customer.last_name or "") if customer else ""
    company = (customer.company or "") if customer else ""
    street = (customer.address1 or "") if customer and same_place else ""
    state = (customer.region or "") if customer and same_place else ""
    place = {"first_name": first, "last_name": last, "company": company, "address_1": street, "address_2": "",
             "city": order.billing_city or "", "state": state, "postcode": order.billing_postal_code or "",
             "country": order.billing_country or ""}
    billing = {**place, "email": order.email, "phone": (customer.phone or "") if customer else ""}
    shipping = {**(place if order.source_channel != "pos" else dict.fromkeys(place, "")), "phone": ""}
    return billing, shipping


def _payment(order: ShopOrder) -> tuple[str, str]:
    if order.source_channel == "pos":
        return "pos_cash", "Cash"
    if order.status == "on-hold":
        return "bacs", "Direct bank transfer"
    if order.status == "checkout-draft":
        return "", ""
    return _GATEWAYS[order.key % len(_GATEWAYS)]


def _order_key(shop: str, key: int) -> str:
    digest = hashlib.sha256(f"{shop}:{key}".encode()).digest()
    return "wc_order_" + "".join(_ORDER_KEY_CHARS[b % len(_ORDER_KEY_CHARS)] for b in digest[:13])


def _order_meta(order: ShopOrder) -> list[dict[str, Any]]:
    meta: list[tuple[str, str]] = [("is_vat_exempt", "no")]
    if order.source_channel != "pos":
        source = ("typein", "organic", "referral", "utm")[order.key % 4]
        device = "Mobile" if order.source_channel == "mobile" else ("Desktop", "Mobile")[order.key % 3 == 0]
        meta += [("_wc_order_attribution_source_type", source), ("_wc_order_attribution_device_type", device)]
    meta += [(k, str(v)) for k, v in order.meta.items()]
    return [{"id": meta_id(order.key, slot), "key": k, "value": v} for slot, (k, v) in enumerate(meta)]


def _split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``total`` split in cents proportionally to ``weights`` (the remainder on the last share)."""
    if not weights:
        return []
    whole = sum(weights, _ZERO)
    shares = [(total * w / whole).quantize(_CENT, ROUND_HALF_UP) if whole else _ZERO for w in weights]
    shares[-1] += total - sum(shares, _ZERO)
    return shares


def _tax_rate_id(order: ShopOrder) -> int:
    country = order.billing_country or ""
    return _TAX_COUNTRIES.index(country) + 1 if country in _TAX_COUNTRIES else len(_TAX_COUNTRIES) + 1


def _line_item(key: int, index: int, line: ShopLine, tax: Decimal, rate_id: int, dp: int) -> dict[str, Any]:
    gross = line.unit_price * line.quantity
    subtotal_tax = (tax * gross / line.total).quantize(_CENT, ROUND_HALF_UP) if line.total else tax
    taxes = [{"id": rate_id, "total": _raw(tax), "subtotal": _raw(subtotal_tax)}] if tax else []
    return {
        "id": item_id(key, index),
        "name": line.product.title,
        "product_id": line.product.product_id,
        "variation_id": 0,
        "quantity": line.quantity,
        "tax_class": "",
        "subtotal": _money(gross, dp),
        "subtotal_tax": _money(subtotal_tax, dp),
        "total": _money(line.total, dp),
        "total_tax": _money(tax, dp),
        "taxes": taxes,
        "meta_data": [],
        "sku": line.product.sku,
        "global_unique_id": "",
        "price": _number(line.total / line.quantity) if line.quantity else 0,
        "image": {"id": "", "src": ""},
        "parent_name": None,
    }


def _tax_lines(order: ShopOrder, subtotal: Decimal, dp: int) -> list[dict[str, Any]]:
    if not order.tax:
        return []
    country = order.billing_country or "XX"
    label = "Sales tax" if country in ("US", "CA") else "VAT"
    percent = float((order.tax * 100 / subtotal).quantize(Decimal("0.0001"))) if subtotal else 0.0
    return [{"id": item_id(order.key, 29), "rate_code": f"{country}-{label.upper()}-1", "rate_id": _tax_rate_id(order),
             "label": label, "compound": False, "tax_total": _money(order.tax, dp),
             "shipping_tax_total": _money(_ZERO, dp), "rate_percent": percent, "meta_data": []}]


def _shipping_lines(order: ShopOrder, dp: int) -> list[dict[str, Any]]:
    if order.source_channel == "pos":
        return []
    free = order.shipping == 0
    items = ", ".join(f"{line.product.title} &times; {line.quantity}" for line in order.lines)
    return [{
        "id": item_id(order.key, 20),
        "method_title": "Free shipping" if free else "Flat rate",
        "method_id": "free_shipping" if free else "flat_rate",
        "instance_id": "2" if free else "1",
        "total": _money(order.shipping, dp),
        "total_tax": _money(_ZERO, dp),
        "taxes": [],
        "tax_status": "taxable",
        "meta_data": [{"id": meta_id(order.key, 15), "key": "Items", "value": items, "display_key": "Items",
                       "display_value": items}],
    }]


def _coupon_lines(order: ShopOrder, dp: int) -> list[dict[str, Any]]:
    codes = order.discount_codes[:8]
    shares = _split(order.discount_total, [Decimal(1)] * len(codes))
    lines = []
    for i, (code, share) in enumerate(zip(codes, shares, strict=True)):
        digits = re.sub(r"\D", "", code)
        lines.append({
            "id": item_id(order.key, 21 + i),
            "code": code.lower(),  # WooCommerce stores coupon codes lower-cased
            "discount": _money(share, dp),
            "discount_tax": _money(_ZERO, dp),
            "meta_data": [],
            "discount_type": "percent" if digits else "fixed_cart",
            "nominal_amount": float(digits or 0),
            "free_shipping": not digits,
        })
    return lines
