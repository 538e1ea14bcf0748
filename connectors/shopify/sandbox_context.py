"""What every Shopify sandbox resolver sees: the shop, who is asking, and the time."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from graphql import GraphQLSchema

from connector.clock import Clock
from connector.sandbox.datagen_catalog import FX_RATES
from connector.sandbox.shop import ShopState
from connectors.shopify.sandbox_schema import money

if TYPE_CHECKING:
    from connectors.shopify.sandbox_bulk import BulkJobs, BulkPage

__all__ = ["REQUIRED_SCOPES", "Context", "Resolver", "ShopIdentity", "money_bag", "money_v2", "to_shop_currency"]

_NO_MINOR_UNITS = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "HUF"})


def to_shop_currency(amount: Decimal, currency: str, shop_currency: str) -> Decimal:
    """``amount`` in ``currency`` converted at the sandbox's fixed rates, rounded to minor units."""
    if currency == shop_currency:
        return amount
    # The generator's own fixed rates (units per USD), so shop-currency totals match its prices.
    rate = FX_RATES.get(shop_currency, Decimal(1)) / FX_RATES.get(currency, Decimal(1))
    step = Decimal(1) if shop_currency in _NO_MINOR_UNITS else Decimal("0.01")
    return (amount * rate).quantize(step)


def money_v2(amount: Decimal, currency: str) -> dict[str, str]:
    """A ``MoneyV2``."""
    return {"amount": money(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str, shop_currency: str) -> dict[str, dict[str, str]]:
    """A ``MoneyBag``: the amount in the shop's currency and in the buyer's (presentment) currency."""
    return {
        "shopMoney": money_v2(to_shop_currency(amount, currency, shop_currency), shop_currency),
        "presentmentMoney": money_v2(amount, currency),
    }


@dataclass(frozen=True)
class ShopIdentity:
    """The shop as Shopify names it."""

    name: str
    currency: str
    plan: str
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)

    @property
    def domain(self) -> str:
        return f"{self.name}.myshopify.com"

    @property
    def shop_id(self) -> int:
        """A stable numeric id, as long as real ones (used in ids and checkout URLs)."""
        return 60_000_000_000 + zlib.crc32(self.name.encode())


@dataclass
class Context:
    """One request's view of the sandbox."""

    shop: ShopState
    identity: ShopIdentity
    scopes: frozenset[str]
    clock: Clock
    schema: GraphQLSchema
    bulk: BulkJobs
    base_url: str
    bulk_page: BulkPage | None = None  # set while a bulk result file is being written
    search: list[dict[str, Any]] = field(default_factory=list)  # extensions.search entries

    @property
    def in_bulk(self) -> bool:
        return self.bulk_page is not None

    def has_scopes(self, *handles: str) -> bool:
        return all(h in self.scopes for h in handles)

    def order_visible(self, order: Any) -> bool:
        """Without ``read_all_orders`` an app sees only the last 60 days of orders."""
        if "read_all_orders" in self.scopes:
            return True
        return bool(order.created_at >= self.clock.now() - timedelta(days=60))


Resolver = Callable[[Any, Context, dict[str, Any]], Any]

_CUSTOMERS = (("read_customers",), "`read_customers` access scope.")
_ORDERS = (("read_orders",), "`read_orders` access scope.")
_PRODUCTS = (("read_products",), "`read_products` access scope.")
# Abandoned checkouts need the read_orders scope, and the staff member behind the token needs the
# manage_abandoned_checkouts permission; the sandbox's scope set stands for both.
_CHECKOUTS = (("read_orders", "manage_abandoned_checkouts"),
              "`read_orders` access scope. Also: the user must have manage_abandoned_checkouts permission.")

# (type, field) -> (scopes needed, Shopify's "Required access" wording). A missing scope is an
# ACCESS_DENIED GraphQL error on that field with HTTP 200, as the GraphQL Admin API answers; the
# 403 in Shopify's status-code list is the REST API's way.
REQUIRED_SCOPES: Mapping[tuple[str, str], tuple[tuple[str, ...], str]] = MappingProxyType({
    **{("QueryRoot", f): _CUSTOMERS for f in ("customers", "customer", "customersCount")},
    **{("QueryRoot", f): _ORDERS for f in ("orders", "order", "ordersCount")},
    **{("QueryRoot", f): _CHECKOUTS for f in ("abandonedCheckouts", "abandonedCheckoutsCount")},
    ("Shop", "customers"): _CUSTOMERS,
    ("Shop", "orders"): _ORDERS,
    ("Order", "customer"): _CUSTOMERS,
    ("AbandonedCheckout", "customer"): _CUSTOMERS,
    ("Customer", "orders"): _ORDERS,
    ("Customer", "lastOrder"): _ORDERS,
    **{(t, f): _PRODUCTS for t in ("LineItem", "AbandonedCheckoutLineItem") for f in ("product", "variant")},
})
