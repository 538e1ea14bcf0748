"""Orders as WooCommerce 11 renders them in ``wc/v3`` (see :mod:`connectors.woocommerce.sandbox_render`).

Beyond the shop's record: the line items carry a share of the order's tax each (one tax rate per
billing country), coupon codes are lower-cased as WooCommerce stores them, refunds come newest
first with negative totals, ``date_paid`` is the payment time once the order left the unpaid
statuses, and the gateway, order key, IP and cart hash are stable functions of the order key.
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.sandbox.records import ShopCustomer, ShopLine, ShopOrder
from connectors.woocommerce.sandbox_ids import customer_id, item_id, meta_id, order_id, refund_id
from connectors.woocommerce.sandbox_render import (
    ALLOW,
    RenderContext,
    money,
    php_number,
    raw_amount,
    wc_date,
)

__all__ = ["WC_VERSION", "order_links", "render_order"]

WC_VERSION = "11.0.1"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "$", "AUD": "$", "JPY": "¥", "CHF": "CHF"}
_UNPAID = frozenset({"pending", "failed", "checkout-draft", "on-hold"})
_TAX_COUNTRIES = ("US", "FR", "GB", "DE", "ES", "IT", "CA", "BE")
_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_DESKTOP_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0 Safari/537.36")
_GATEWAYS = (("stripe", "Credit Card (Stripe)"), ("stripe", "Credit Card (Stripe)"), ("ppcp-gateway", "PayPal"),
             ("bacs", "Direct bank transfer"))
_ORDER_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


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
        "discount_total": money(order.discount_total, dp),
        "discount_tax": money(_ZERO, dp),
        "shipping_total": money(order.shipping, dp),
        "shipping_tax": money(_ZERO, dp),
        "cart_tax": money(order.tax, dp),
        "total": money(total, dp),
        "total_tax": money(order.tax, dp),
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
        "refunds": [{"id": refund_id(order.key, i), "reason": "", "total": "-" + money(refund.amount, dp)}
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
        "self": [{"href": self_href, "targetHints": ALLOW}],
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
    taxes = [{"id": rate_id, "total": raw_amount(tax), "subtotal": raw_amount(subtotal_tax)}] if tax else []
    return {
        "id": item_id(key, index),
        "name": line.product.title,
        "product_id": line.product.product_id,
        "variation_id": 0,
        "quantity": line.quantity,
        "tax_class": "",
        "subtotal": money(gross, dp),
        "subtotal_tax": money(subtotal_tax, dp),
        "total": money(line.total, dp),
        "total_tax": money(tax, dp),
        "taxes": taxes,
        "meta_data": [],
        "sku": line.product.sku,
        "global_unique_id": "",
        "price": php_number(line.total / line.quantity) if line.quantity else 0,
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
             "label": label, "compound": False, "tax_total": money(order.tax, dp),
             "shipping_tax_total": money(_ZERO, dp), "rate_percent": percent, "meta_data": []}]


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
        "total": money(order.shipping, dp),
        "total_tax": money(_ZERO, dp),
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
            "discount": money(share, dp),
            "discount_tax": money(_ZERO, dp),
            "meta_data": [],
            "discount_type": "percent" if digits else "fixed_cart",
            "nominal_amount": float(digits or 0),
            "free_shipping": not digits,
        })
    return lines
