"""Shop records as WooCommerce 11 renders them in ``wc/v3``: every field, in its order, with its JSON type.

The shapes follow real responses captured from WooCommerce 11.0.1 (HPOS): money as strings with
``dp`` decimals (refund totals negative), a line item's ``price`` as a JSON number, dates twice
(site-local and GMT, both naive ``YYYY-MM-DDTHH:MM:SS``), ``null`` dates for what has not happened,
an empty string for every unknown address field. ``_links`` are built apart (:func:`customer_links`,
:func:`~connectors.woocommerce.sandbox_render_orders.order_links`) because WordPress adds them
after ``_fields``. This module holds the customers and what orders share with them; orders are in
:mod:`connectors.woocommerce.sandbox_render_orders`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connector.sandbox.records import ShopCustomer
from connectors.woocommerce.sandbox_ids import admin_email, customer_id, meta_id, username
from connectors.woocommerce.sandbox_index import CustomerRow

__all__ = ["ALLOW", "RenderContext", "customer_links", "money", "php_number", "raw_amount", "render_admin",
           "render_customer", "wc_date"]

_CONSENT_META = {"subscribed": "yes", "unsubscribed": "unsubscribed", "pending": "pending"}
ALLOW = {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}  # a self link's targetHints
_STEPS: dict[int, Decimal] = {2: Decimal("0.01")}


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


def money(amount: Decimal, dp: int) -> str:
    """Money as ``wc_format_decimal`` writes it: ``dp`` decimals, half away from zero."""
    step = _STEPS.get(dp) or _STEPS.setdefault(dp, Decimal(1).scaleb(-dp))
    return str(amount.quantize(step, rounding=ROUND_HALF_UP))


def raw_amount(amount: Decimal) -> str:
    """A stored amount as WooCommerce keeps it in item meta: no trailing zeros."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


def php_number(amount: Decimal) -> int | float:
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
    return {"self": [{"href": f"{base}/{uid}", "targetHints": ALLOW}], "collection": [{"href": base}]}
