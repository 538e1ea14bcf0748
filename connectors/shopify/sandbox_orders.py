"""``Order``, ``AbandonedCheckout`` and their lines, refunds and products, from generated records.

Money: every ``...Set`` is a ``MoneyBag`` whose presentment side is the order's own currency and
whose shop side is converted at the sandbox's fixed rates. Generated orders carry a WooCommerce-
style status; the Shopify statuses derive from it (``completed`` is fulfilled and closed,
``on-hold`` is on hold, anything cancelled has ``cancelledAt``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.sandbox.records import Product, ShopCart, ShopLine, ShopOrder, ShopRefund
from connectors.shopify.sandbox_context import Context, Resolver, money_bag
from connectors.shopify.sandbox_customers import mailing_address
from connectors.shopify.sandbox_paging import Window, connection, page_list
from connectors.shopify.sandbox_schema import gid, iso, money

__all__ = ["RESOLVERS", "CustomerRef", "LineView", "Variant"]

_FINANCIAL = {"pending": "PENDING", "authorized": "AUTHORIZED", "paid": "PAID",
              "partially_refunded": "PARTIALLY_REFUNDED", "refunded": "REFUNDED", "voided": "VOIDED"}
_FULFILLMENT = {"completed": "FULFILLED", "on-hold": "ON_HOLD", "refunded": "RESTOCKED"}
_CHANNELS = {"web": ("web", "Online Store"), "pos": ("pos", "Point of Sale"), "mobile": ("shop", "Shop")}


@dataclass(frozen=True)
class LineView:
    """One line of an order or a cart, with what its id and money need."""

    parent_key: int
    index: int
    line: ShopLine
    currency: str
    refunded_quantity: int = 0
    cart: bool = False

    @property
    def number(self) -> int:
        return self.parent_key * 1000 + self.index + 1


@dataclass(frozen=True)
class Variant:
    """A product's single variant (generated products have one each)."""

    product: Product


def _bag(amount: Decimal, currency: str, ctx: Context) -> dict[str, Any]:
    return money_bag(amount, currency, ctx.identity.currency)


def _order_lines(o: ShopOrder) -> list[LineView]:
    refunded: dict[int, int] = {}
    for refund in o.refunds:
        for index, quantity in refund.lines:
            refunded[index] = refunded.get(index, 0) + quantity
    return [LineView(o.key, i, line, o.currency, refunded.get(i, 0)) for i, line in enumerate(o.lines)]


def _lines_connection(lines: list[LineView], ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    return connection(page_list(lines, Window.from_args(args, unbounded=ctx.in_bulk), lambda v: v.number))


def _source_name(o: ShopOrder) -> str:
    if o.source_channel == "mobile":  # Shopify names the mobile apps by platform
        return "iphone" if o.key % 2 else "android"
    return o.source_channel


def _channel(o: ShopOrder, ctx: Context, _args: Any = None) -> dict[str, Any]:
    handle, name = _CHANNELS[o.source_channel]
    return {"id": gid("ChannelInformation", o.key), "channelId": gid("Channel", len(handle)),
            "channelDefinition": {"id": gid("ChannelDefinition", len(handle)), "handle": handle,
                                  "channelName": name, "subChannelName": name, "isMarketplace": False}}


class CustomerRef:
    """An order's or cart's customer, read from the shop only if a field beyond ``id`` is asked for.

    Orders and checkouts usually select just ``customer { id }``; building the whole generated
    customer for that would double the cost of a bulk export. Shops never delete customers, so a
    key on a record always names one.
    """

    __slots__ = ("_record", "_shop", "key")

    def __init__(self, key: int, shop: Any) -> None:
        self.key = key
        self._shop = shop
        self._record: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._record is None:
            self._record = self._shop.get("customers", self.key)
        return getattr(self._record, name)


def _customer(record: ShopOrder | ShopCart, ctx: Context) -> Any:
    return CustomerRef(record.customer_key, ctx.shop) if record.customer_key is not None else None


def _closed(o: ShopOrder) -> bool:
    return o.status in ("completed", "refunded", "cancelled")


def _billing(o: ShopOrder, ctx: Context, _args: Any = None) -> dict[str, Any] | None:
    # Generated orders keep the billing country, city and postcode; names stay null.
    return mailing_address(o.key, city=o.billing_city, country=o.billing_country, postal_code=o.billing_postal_code,
                           model="OrderAddress")


def _money(attr: str) -> Resolver:
    return lambda o, ctx, a: _bag(getattr(o, attr), o.currency, ctx)


_ORDER: dict[str, Resolver] = {
    "id": lambda o, ctx, a: gid("Order", o.key),
    "legacyResourceId": lambda o, ctx, a: str(o.key),
    "name": lambda o, ctx, a: f"#{o.number}",
    "email": lambda o, ctx, a: o.email,
    "createdAt": lambda o, ctx, a: iso(o.created_at),
    "updatedAt": lambda o, ctx, a: iso(o.updated_at),
    "processedAt": lambda o, ctx, a: iso(o.processed_at or o.created_at),
    "cancelledAt": lambda o, ctx, a: iso(o.cancelled_at),
    "cancelReason": lambda o, ctx, a: "CUSTOMER" if o.cancelled_at else None,
    "closed": lambda o, ctx, a: _closed(o),
    "closedAt": lambda o, ctx, a: iso(o.updated_at) if _closed(o) else None,
    "confirmed": lambda o, ctx, a: True,
    "test": lambda o, ctx, a: o.test,
    "displayFinancialStatus": lambda o, ctx, a: _FINANCIAL[o.financial],
    "displayFulfillmentStatus": lambda o, ctx, a: _FULFILLMENT.get(o.status, "UNFULFILLED"),
    "fullyPaid": lambda o, ctx, a: o.financial in ("paid", "partially_refunded", "refunded"),
    "unpaid": lambda o, ctx, a: o.financial in ("pending", "authorized"),
    "currencyCode": lambda o, ctx, a: ctx.identity.currency,
    "presentmentCurrencyCode": lambda o, ctx, a: o.currency,
    "subtotalPriceSet": _money("subtotal"),
    "currentSubtotalPriceSet": _money("subtotal"),
    "totalPriceSet": _money("total"),
    "originalTotalPriceSet": _money("total"),
    "currentTotalPriceSet": lambda o, ctx, a: _bag(o.total - o.refunded_total, o.currency, ctx),
    "netPaymentSet": lambda o, ctx, a: _bag(o.total - o.refunded_total, o.currency, ctx),
    "totalReceivedSet": lambda o, ctx, a: _bag(o.total if o.financial != "pending" else Decimal(0), o.currency, ctx),
    "totalRefundedSet": _money("refunded_total"),
    "totalShippingPriceSet": _money("shipping"),
    "currentShippingPriceSet": _money("shipping"),
    "totalTaxSet": _money("tax"),
    "currentTotalTaxSet": _money("tax"),
    "totalDiscountsSet": _money("discount_total"),
    "currentTotalDiscountsSet": _money("discount_total"),
    "discountCodes": lambda o, ctx, a: list(o.discount_codes),
    "discountCode": lambda o, ctx, a: o.discount_codes[0] if o.discount_codes else None,
    "customer": lambda o, ctx, a: _customer(o, ctx),
    "customerAcceptsMarketing": lambda o, ctx, a: getattr(_customer(o, ctx), "consent", None) == "subscribed",
    "sourceName": lambda o, ctx, a: _source_name(o),
    "channelInformation": _channel,
    "billingAddress": _billing,
    "displayAddress": _billing,
    "tags": lambda o, ctx, a: [],
    "subtotalLineItemsQuantity": lambda o, ctx, a: sum(line.quantity for line in o.lines),
    "currentSubtotalLineItemsQuantity": lambda o, ctx, a: sum(v.line.quantity - v.refunded_quantity
                                                              for v in _order_lines(o)),
    "lineItems": lambda o, ctx, a: _lines_connection(_order_lines(o), ctx, a),
    "refunds": lambda o, ctx, a: [(o, i, r) for i, r in enumerate(o.refunds)][: a.get("first") or None],
    "statusPageUrl": lambda o, ctx, a: f"https://{ctx.identity.domain}/{ctx.identity.shop_id}/orders/{o.key}",
}


def _refund_lines(o: ShopOrder, refund: ShopRefund, ctx: Context) -> list[dict[str, Any]]:
    lines = _order_lines(o)
    return [{"id": gid("RefundLineItem", lines[i].number * 100 + n), "lineItem": lines[i], "quantity": q,
             "restockType": "RETURN", "restocked": False,
             "priceSet": _bag(lines[i].line.unit_price, o.currency, ctx),
             "subtotalSet": _bag(lines[i].line.unit_price * q, o.currency, ctx),
             "totalTaxSet": _bag(Decimal(0), o.currency, ctx)}
            for n, (i, q) in enumerate(refund.lines) if 0 <= i < len(lines)]


def _refund_line_number(row: dict[str, Any]) -> int:
    return int(row["id"].rsplit("/", 1)[1])


_REFUND: dict[str, Resolver] = {
    "id": lambda r, ctx, a: gid("Refund", r[0].key * 100 + r[1] + 1),
    "legacyResourceId": lambda r, ctx, a: str(r[0].key * 100 + r[1] + 1),
    "createdAt": lambda r, ctx, a: iso(r[2].created_at),
    "updatedAt": lambda r, ctx, a: iso(r[2].created_at),
    "note": lambda r, ctx, a: None,
    "order": lambda r, ctx, a: r[0],
    "totalRefundedSet": lambda r, ctx, a: _bag(r[2].amount, r[0].currency, ctx),
    "refundLineItems": lambda r, ctx, a: connection(page_list(
        _refund_lines(r[0], r[2], ctx), Window.from_args(a, unbounded=ctx.in_bulk), _refund_line_number)),
}


def _unit_discounted(v: LineView) -> Decimal:
    return v.line.unit_price - (v.line.discount / v.line.quantity if v.line.quantity else Decimal(0))


_LINE_ITEM: dict[str, Resolver] = {
    "id": lambda v, ctx, a: gid("AbandonedCheckoutLineItem" if v.cart else "LineItem", v.number),
    "name": lambda v, ctx, a: v.line.product.title,
    "title": lambda v, ctx, a: v.line.product.title,
    "sku": lambda v, ctx, a: v.line.product.sku,
    "vendor": lambda v, ctx, a: v.line.product.vendor,
    "variantTitle": lambda v, ctx, a: None,
    "quantity": lambda v, ctx, a: v.line.quantity,
    "currentQuantity": lambda v, ctx, a: v.line.quantity - v.refunded_quantity,
    "refundableQuantity": lambda v, ctx, a: v.line.quantity - v.refunded_quantity,
    "fulfillableQuantity": lambda v, ctx, a: v.line.quantity - v.refunded_quantity,
    "unfulfilledQuantity": lambda v, ctx, a: v.line.quantity - v.refunded_quantity,
    "fulfillmentStatus": lambda v, ctx, a: "unfulfilled",
    "requiresShipping": lambda v, ctx, a: True,
    "taxable": lambda v, ctx, a: True,
    "product": lambda v, ctx, a: v.line.product,
    "variant": lambda v, ctx, a: Variant(v.line.product),
    "originalUnitPriceSet": lambda v, ctx, a: _bag(v.line.unit_price, v.currency, ctx),
    "discountedUnitPriceSet": lambda v, ctx, a: _bag(_unit_discounted(v), v.currency, ctx),
    "discountedUnitPriceAfterAllDiscountsSet": lambda v, ctx, a: _bag(_unit_discounted(v), v.currency, ctx),
    "originalTotalSet": lambda v, ctx, a: _bag(v.line.unit_price * v.line.quantity, v.currency, ctx),
    "discountedTotalSet": lambda v, ctx, a: _bag(v.line.total, v.currency, ctx),
    "totalDiscountSet": lambda v, ctx, a: _bag(v.line.discount, v.currency, ctx),
}
_CART_LINE: dict[str, Resolver] = {
    **{k: _LINE_ITEM[k] for k in ("id", "title", "sku", "variantTitle", "quantity", "product", "variant")},
    "originalUnitPriceSet": _LINE_ITEM["originalUnitPriceSet"],
    "originalTotalPriceSet": _LINE_ITEM["originalTotalSet"],
    "discountedUnitPriceSet": _LINE_ITEM["discountedUnitPriceSet"],
    "discountedUnitPriceWithCodeDiscount": _LINE_ITEM["discountedUnitPriceSet"],
    "discountedTotalPriceSet": _LINE_ITEM["discountedTotalSet"],
    "discountedTotalPriceWithCodeDiscount": _LINE_ITEM["discountedTotalSet"],
}


def _cart_lines(c: ShopCart) -> list[LineView]:
    return [LineView(c.key, i, line, c.currency, cart=True) for i, line in enumerate(c.lines)]


def _cart_sum(c: ShopCart, part: str) -> Decimal:
    if part == "original":
        return sum((line.unit_price * line.quantity for line in c.lines), Decimal(0))
    return sum((line.discount for line in c.lines), Decimal(0))


_CART: dict[str, Resolver] = {
    "id": lambda c, ctx, a: gid("AbandonedCheckout", c.key),
    "name": lambda c, ctx, a: f"#{c.key}",
    "abandonedCheckoutUrl": lambda c, ctx, a:
        f"https://{ctx.identity.domain}/{ctx.identity.shop_id}/checkouts/ac/{c.token}/recover",
    "createdAt": lambda c, ctx, a: iso(c.created_at),
    "updatedAt": lambda c, ctx, a: iso(c.updated_at),
    "completedAt": lambda c, ctx, a: iso(c.completed_at),
    "customer": lambda c, ctx, a: _customer(c, ctx),
    "discountCodes": lambda c, ctx, a: [],
    "note": lambda c, ctx, a: "",
    "taxesIncluded": lambda c, ctx, a: False,
    "lineItemsQuantity": lambda c, ctx, a: sum(line.quantity for line in c.lines),
    "lineItems": lambda c, ctx, a: _lines_connection(_cart_lines(c), ctx, a),
    "totalPriceSet": lambda c, ctx, a: _bag(c.total, c.currency, ctx),
    "subtotalPriceSet": lambda c, ctx, a: _bag(c.total, c.currency, ctx),
    "totalLineItemsPriceSet": lambda c, ctx, a: _bag(_cart_sum(c, "original"), c.currency, ctx),
    "totalDiscountSet": lambda c, ctx, a: _bag(_cart_sum(c, "discount"), c.currency, ctx),
    "totalTaxSet": lambda c, ctx, a: _bag(Decimal(0), c.currency, ctx),
}


def _handle(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


_PRODUCT: dict[str, Resolver] = {
    "id": lambda p, ctx, a: gid("Product", p.product_id),
    "legacyResourceId": lambda p, ctx, a: str(p.product_id),
    "title": lambda p, ctx, a: p.title,
    "handle": lambda p, ctx, a: _handle(p.title),
    "productType": lambda p, ctx, a: p.product_type,
    "vendor": lambda p, ctx, a: p.vendor,
    "tags": lambda p, ctx, a: [p.category],
    "status": lambda p, ctx, a: "ACTIVE",
    "totalVariants": lambda p, ctx, a: 1,
    "hasOnlyDefaultVariant": lambda p, ctx, a: True,
    "createdAt": lambda p, ctx, a: iso(ctx.identity.created_at),
    "updatedAt": lambda p, ctx, a: iso(ctx.identity.created_at),
}
_VARIANT: dict[str, Resolver] = {
    "id": lambda v, ctx, a: gid("ProductVariant", v.product.variant_id),
    "legacyResourceId": lambda v, ctx, a: str(v.product.variant_id),
    "sku": lambda v, ctx, a: v.product.sku,
    "title": lambda v, ctx, a: "Default Title",
    "displayName": lambda v, ctx, a: f"{v.product.title} - Default Title",
    "price": lambda v, ctx, a: money(v.product.price),
    "product": lambda v, ctx, a: v.product,
    "position": lambda v, ctx, a: 1,
    "createdAt": lambda v, ctx, a: iso(ctx.identity.created_at),
    "updatedAt": lambda v, ctx, a: iso(ctx.identity.created_at),
}

RESOLVERS: Mapping[str, Mapping[str, Resolver]] = {
    "Order": _ORDER, "LineItem": _LINE_ITEM, "Refund": _REFUND, "AbandonedCheckout": _CART,
    "AbandonedCheckoutLineItem": _CART_LINE, "Product": _PRODUCT, "ProductVariant": _VARIANT,
}
