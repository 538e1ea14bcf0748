"""Canonical models to table rows and back, one pair of functions per entity.

Reading a row back gives a model equal to the one written, with one exception: a customer's
``issues`` are not stored (they are recorded in the quarantine when the record is read from
the source), so a stored customer comes back with ``issues == ()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import RowMapping

from connector.models import Address, Cart, CartItem, Customer, LineItem, MarketingConsent, Order, split_id
from connector.store.sql import Row

__all__ = [
    "cart_from_row",
    "cart_row",
    "customer_from_row",
    "customer_row",
    "line_item_rows",
    "order_from_row",
    "order_row",
]


def _origin(source_id: str) -> Row:
    platform, shop, _native = split_id(source_id)
    return {"source_id": source_id, "platform": platform, "shop": shop}


def customer_row(customer: Customer, stored_at: datetime) -> Row:
    """The ``customers`` row for ``customer``."""
    address, consent = customer.address, customer.consent
    return {
        **_origin(customer.id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "company": customer.company,
        "locale": customer.locale,
        "country": address.country,
        "region": address.region,
        "city": address.city,
        "postal_code": address.postal_code,
        "birthday": customer.birthday,
        "tags": list(customer.tags),
        "attributes": dict(customer.attributes),
        "consent_state": consent.state.value,
        "consent_updated_at": consent.updated_at,
        "consent_source": consent.source,
        "consent_opt_in_level": consent.opt_in_level,
        "is_staff": customer.is_staff,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "stored_at": stored_at,
    }


def customer_from_row(row: RowMapping) -> Customer:
    """The :class:`Customer` a ``customers`` row holds."""
    return Customer.model_validate(
        {
            "id": row["source_id"],
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "phone": row["phone"],
            "company": row["company"],
            "locale": row["locale"],
            "address": Address(
                country=row["country"], region=row["region"], city=row["city"], postal_code=row["postal_code"]
            ),
            "birthday": row["birthday"],
            "tags": tuple(row["tags"]),
            "attributes": row["attributes"],
            "consent": MarketingConsent(
                state=row["consent_state"],
                updated_at=row["consent_updated_at"],
                source=row["consent_source"],
                opt_in_level=row["consent_opt_in_level"],
            ),
            "is_staff": row["is_staff"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
    )


def order_row(order: Order, customer_id: int | None, stored_at: datetime) -> Row:
    """The ``orders`` row for ``order``; ``customer_id`` is the resolved customer's integer id."""
    billing = order.billing_address
    return {
        **_origin(order.id),
        "customer_ref": order.customer_id,
        "customer_id": customer_id,
        "email": order.email,
        "number": order.number,
        "status": order.status.value,
        "financial_status": order.financial_status.value,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "shipping_total": order.shipping_total,
        "tax_total": order.tax_total,
        "total": order.total,
        "refunded_total": order.refunded_total,
        "discount_codes": list(order.discount_codes),
        "source_channel": order.source_channel,
        "test": order.test,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "processed_at": order.processed_at,
        "cancelled_at": order.cancelled_at,
        "billing_country": billing.country,
        "billing_region": billing.region,
        "billing_city": billing.city,
        "billing_postal_code": billing.postal_code,
        "attributes": dict(order.attributes),
        "stored_at": stored_at,
    }


def line_item_rows(order_id: int, customer_id: int | None, items: Iterable[LineItem]) -> list[Row]:
    """The ``line_items`` rows of one order, numbered from 0 in the order's own sequence."""
    return [
        {
            "order_id": order_id,
            "position": position,
            "customer_id": customer_id,
            "line_ref": item.line_id,
            "product_id": item.product_id,
            "variant_id": item.variant_id,
            "sku": item.sku,
            "title": item.title,
            "product_type": item.product_type,
            "category": item.category,
            "vendor": item.vendor,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
            "total": item.total,
            "refunded_quantity": item.refunded_quantity,
        }
        for position, item in enumerate(items)
    ]


def _line_item(row: RowMapping) -> LineItem:
    return LineItem(
        line_id=row["line_ref"],
        product_id=row["product_id"],
        variant_id=row["variant_id"],
        sku=row["sku"],
        title=row["title"],
        product_type=row["product_type"],
        category=row["category"],
        vendor=row["vendor"],
        quantity=row["quantity"],
        unit_price=row["unit_price"],
        total=row["total"],
        refunded_quantity=row["refunded_quantity"],
    )


def order_from_row(row: RowMapping, items: Sequence[RowMapping]) -> Order:
    """The :class:`Order` an ``orders`` row and its ``line_items`` rows (in position order) hold."""
    return Order.model_validate(
        {
            "id": row["source_id"],
            "customer_id": row["customer_ref"],
            "email": row["email"],
            "number": row["number"],
            "status": row["status"],
            "financial_status": row["financial_status"],
            "currency": row["currency"],
            "subtotal": row["subtotal"],
            "discount_total": row["discount_total"],
            "shipping_total": row["shipping_total"],
            "tax_total": row["tax_total"],
            "total": row["total"],
            "refunded_total": row["refunded_total"],
            "discount_codes": tuple(row["discount_codes"]),
            "source_channel": row["source_channel"],
            "test": row["test"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "processed_at": row["processed_at"],
            "cancelled_at": row["cancelled_at"],
            "billing_address": Address(
                country=row["billing_country"],
                region=row["billing_region"],
                city=row["billing_city"],
                postal_code=row["billing_postal_code"],
            ),
            "line_items": tuple(_line_item(item) for item in items),
            "attributes": row["attributes"],
        }
    )


def cart_row(cart: Cart, customer_id: int | None, stored_at: datetime) -> Row:
    """The ``carts`` row for ``cart``; items are kept as JSON (carts are read whole, never aggregated)."""
    return {
        **_origin(cart.id),
        "customer_ref": cart.customer_id,
        "customer_id": customer_id,
        "email": cart.email,
        "currency": cart.currency,
        "value": cart.value,
        "items": [item.model_dump(mode="json", exclude_defaults=True) for item in cart.items],
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
        "completed_at": cart.completed_at,
        "recovery_url": cart.recovery_url,
        "stored_at": stored_at,
    }


def cart_from_row(row: RowMapping) -> Cart:
    """The :class:`Cart` a ``carts`` row holds."""
    return Cart(
        id=row["source_id"],
        customer_id=row["customer_ref"],
        email=row["email"],
        items=tuple(CartItem.model_validate(item) for item in row["items"]),
        value=row["value"],
        currency=row["currency"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        recovery_url=row["recovery_url"],
    )
