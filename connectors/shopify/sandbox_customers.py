"""``Customer`` (with its address, consent and metafields) rendered from a generated customer.

Generated facts that Shopify keeps outside the customer object live where a shop keeps them:
the birthday as metafield ``facts.birthday`` (type ``date``) and the loyalty tier as
``loyalty.tier`` (``single_line_text_field``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.sandbox.records import ShopCustomer, ShopOrder
from connectors.shopify.sandbox_context import Context, Resolver, money_v2, to_shop_currency
from connectors.shopify.sandbox_paging import Window, connection, page_list
from connectors.shopify.sandbox_schema import admin_schema, gid, iso

__all__ = ["RESOLVERS", "Metafield", "mailing_address"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONSENT = {"subscribed": "SUBSCRIBED", "not_subscribed": "NOT_SUBSCRIBED", "unsubscribed": "UNSUBSCRIBED",
            "pending": "PENDING"}
_COUNTRY_NAMES = {
    "US": "United States", "CA": "Canada", "GB": "United Kingdom", "FR": "France", "DE": "Germany",
    "ES": "Spain", "IT": "Italy", "NL": "Netherlands", "BE": "Belgium", "CH": "Switzerland", "AT": "Austria",
    "IE": "Ireland", "PT": "Portugal", "SE": "Sweden", "DK": "Denmark", "NO": "Norway", "FI": "Finland",
    "PL": "Poland", "AU": "Australia", "NZ": "New Zealand", "JP": "Japan", "BR": "Brazil", "MX": "Mexico",
}
# Orders whose money the customer still owes or got back do not count as spent.
_SPENT = frozenset({"paid", "partially_refunded", "refunded"})


@dataclass(frozen=True)
class Metafield:
    """One metafield of a customer."""

    owner: ShopCustomer
    number: int  # 1-based slot, part of the metafield's id
    namespace: str
    key: str
    type: str
    value: str


def valid_email(email: str | None) -> bool:
    return bool(email) and _EMAIL.match(email.strip()) is not None  # type: ignore[union-attr]


def mailing_address(owner_key: int, *, first_name: str | None = None, last_name: str | None = None,
                    phone: str | None = None, company: str | None = None, address1: str | None = None,
                    city: str | None = None, region: str | None = None, country: str | None = None,
                    postal_code: str | None = None, model: str = "CustomerAddress") -> dict[str, Any] | None:
    """A ``MailingAddress``, or None when nothing of it is known."""
    if not any((address1, city, region, country, postal_code, company)):
        return None
    codes = admin_schema().get_type("CountryCode").values  # type: ignore[union-attr]
    country_code = country.upper() if country and country.upper() in codes else None
    # A region is a code when short and upper case ("ON", "NSW"), otherwise a name.
    province_code = region if region and len(region) <= 3 and region.isupper() else None
    name = " ".join(p for p in (first_name, last_name) if p) or None
    country_name = _COUNTRY_NAMES.get(country_code or "", country_code)
    area = ", ".join(p for p in (city, province_code or region, country_name) if p) or None
    return {
        "id": f"{gid('MailingAddress', owner_key)}?model_name={model}",
        "firstName": first_name, "lastName": last_name, "name": name, "phone": phone, "company": company,
        "address1": address1, "address2": None, "city": city, "province": region, "provinceCode": province_code,
        "country": country_name, "countryCode": country_code, "countryCodeV2": country_code, "zip": postal_code,
        "formattedArea": area, "coordinatesValidated": False,
        "formatted": [p for p in (company, address1, " ".join(x for x in (postal_code, city) if x), country_name)
                      if p],
    }


def _address(c: ShopCustomer) -> dict[str, Any] | None:
    return mailing_address(c.key, first_name=c.first_name, last_name=c.last_name, phone=c.phone,
                           company=c.company, address1=c.address1, city=c.city, region=c.region,
                           country=c.country, postal_code=c.postal_code)


def _metafields(c: ShopCustomer) -> list[Metafield]:
    found = []
    if c.birthday is not None:
        found.append(Metafield(c, 1, "facts", "birthday", "date", c.birthday.isoformat()))
    if c.loyalty_tier:
        found.append(Metafield(c, 2, "loyalty", "tier", "single_line_text_field", c.loyalty_tier))
    return found


def _metafield(c: ShopCustomer, ctx: Context, args: dict[str, Any]) -> Metafield | None:
    namespace, key = args.get("namespace"), args["key"]
    if namespace is None and "." in key:  # "facts.birthday" as the key alone
        namespace, _, key = key.partition(".")
    return next((m for m in _metafields(c) if m.namespace == namespace and m.key == key), None)


def _metafield_connection(c: ShopCustomer, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    fields = _metafields(c)
    if args.get("namespace") is not None:
        fields = [m for m in fields if m.namespace == args["namespace"]]
    if args.get("keys") is not None:
        fields = [m for m in fields if f"{m.namespace}.{m.key}" in set(args["keys"])]
    window = Window.from_args(args, unbounded=ctx.in_bulk)
    return connection(page_list(fields, window, lambda m: m.owner.key * 10 + m.number))


def _orders(c: ShopCustomer, ctx: Context) -> list[ShopOrder]:
    return [o for o in ctx.shop.orders_of(c.key) if ctx.order_visible(o)]


def _amount_spent(c: ShopCustomer, ctx: Context, _args: Any) -> dict[str, str]:
    base = ctx.identity.currency
    total = sum(
        (to_shop_currency(o.total - o.refunded_total, o.currency, base)
         for o in ctx.shop.orders_of(c.key) if o.financial in _SPENT),
        Decimal(0),
    )
    return money_v2(total, base)


def _consent(c: ShopCustomer, ctx: Context, _args: Any) -> dict[str, Any] | None:
    if not c.email:
        return None
    state = _CONSENT[c.consent] if valid_email(c.email) else "INVALID"
    return {
        "marketingState": state,
        "marketingOptInLevel": "CONFIRMED_OPT_IN" if c.consent == "pending" else "SINGLE_OPT_IN",
        "consentUpdatedAt": iso(c.consent_updated_at),
    }


def _display_name(c: ShopCustomer, _ctx: Context, _args: Any) -> str:
    return " ".join(p for p in (c.first_name, c.last_name) if p) or c.email or c.phone or ""


def _customer_orders(c: ShopCustomer, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    window = Window.from_args(args, unbounded=ctx.in_bulk)
    return connection(page_list(_orders(c, ctx), window, lambda o: o.key))


_CUSTOMER: dict[str, Resolver] = {
    "id": lambda c, ctx, a: gid("Customer", c.key),
    "legacyResourceId": lambda c, ctx, a: str(c.key),
    "email": lambda c, ctx, a: c.email,
    "firstName": lambda c, ctx, a: c.first_name,
    "lastName": lambda c, ctx, a: c.last_name,
    "displayName": _display_name,
    "phone": lambda c, ctx, a: c.phone,
    "locale": lambda c, ctx, a: c.locale or "en",
    "note": lambda c, ctx, a: None,
    "tags": lambda c, ctx, a: list(c.tags),
    "createdAt": lambda c, ctx, a: iso(c.created_at),
    "updatedAt": lambda c, ctx, a: iso(c.updated_at),
    # Most shoppers never create an account; a stable third of them have one.
    "state": lambda c, ctx, a: "ENABLED" if c.key % 3 == 0 else "DISABLED",
    "verifiedEmail": lambda c, ctx, a: valid_email(c.email),
    "validEmailAddress": lambda c, ctx, a: valid_email(c.email),
    "taxExempt": lambda c, ctx, a: False,
    "numberOfOrders": lambda c, ctx, a: str(len(_orders(c, ctx))),
    "amountSpent": _amount_spent,
    "canDelete": lambda c, ctx, a: not ctx.shop.orders_of(c.key),
    "lastOrder": lambda c, ctx, a: max(_orders(c, ctx), key=lambda o: o.key, default=None),
    "orders": _customer_orders,
    "defaultAddress": lambda c, ctx, a: _address(c),
    "addresses": lambda c, ctx, a: [x for x in (_address(c),) if x],
    "emailMarketingConsent": _consent,
    "metafield": _metafield,
    "metafields": _metafield_connection,
}

_METAFIELD: dict[str, Resolver] = {
    "id": lambda m, ctx, a: gid("Metafield", m.owner.key * 10 + m.number),
    "legacyResourceId": lambda m, ctx, a: str(m.owner.key * 10 + m.number),
    "namespace": lambda m, ctx, a: m.namespace,
    "key": lambda m, ctx, a: m.key,
    "type": lambda m, ctx, a: m.type,
    "value": lambda m, ctx, a: m.value,
    "jsonValue": lambda m, ctx, a: m.value,
    "ownerType": lambda m, ctx, a: "CUSTOMER",
    "owner": lambda m, ctx, a: m.owner,
    "createdAt": lambda m, ctx, a: iso(m.owner.created_at),
    "updatedAt": lambda m, ctx, a: iso(m.owner.updated_at),
    "compareDigest": lambda m, ctx, a: hashlib.sha256(m.value.encode()).hexdigest(),
}

RESOLVERS: Mapping[str, Mapping[str, Resolver]] = {"Customer": _CUSTOMER, "Metafield": _METAFIELD}
