"""How shop records become WordPress objects: their ids, user logins and display names.

* Customers are WordPress users. User 1 is the site's administrator (not a shop customer); the
  customer with key ``k`` is user ``k + 1``.
* Orders live in WooCommerce's HPOS tables but take their ids from the posts sequence they share
  with products, refunds and pages, so order ids are not dense: ``1000 + 3k + k % 2`` for key
  ``k`` (gaps of 2 and 4, strictly increasing with the key; the catalogue's products are 1-200).
  The order number is the id, as in WooCommerce without a numbering plugin.
* Refunds are orders of their own with later ids; order items and meta rows have their own
  sequences. Every id is a pure function of the record's key, so it is stable across restarts.
"""

from __future__ import annotations

import re

from connector.sandbox.records import ShopCustomer

__all__ = [
    "ADMIN_ID",
    "admin_email",
    "customer_id",
    "customer_key",
    "display_name",
    "item_id",
    "meta_id",
    "order_id",
    "order_key",
    "refund_id",
    "username",
]

ADMIN_ID = 1
ORDER_ID_BASE = 1000
REFUND_ID_BASE = 900_000_000
ITEMS_PER_ORDER = 32  # line items 0-19, shipping 20, coupons 21-28, tax 29
_USERNAME_DROP = re.compile(r"[^a-zA-Z0-9 _.@-]")


def admin_email(shop_name: str) -> str:
    """The administrator's address (a documentation domain: deliverable-looking, owned by nobody)."""
    return f"admin@{shop_name}.example.com"


def customer_id(key: int) -> int:
    """The WordPress user id of customer ``key``."""
    return key + 1


def customer_key(user_id: int) -> int:
    """The customer key of a user id (0 is the administrator)."""
    return user_id - 1


def order_id(key: int) -> int:
    """The WooCommerce order id of order ``key``."""
    return ORDER_ID_BASE + 3 * key + key % 2


def order_key(oid: int) -> int | None:
    """The order key with this id, or None when no key maps to it."""
    guess = (oid - ORDER_ID_BASE) // 3
    for key in (guess - 1, guess, guess + 1):
        if key >= 1 and order_id(key) == oid:
            return key
    return None


def refund_id(key: int, index: int) -> int:
    """The id of refund ``index`` (0-based, oldest first) of order ``key``."""
    return REFUND_ID_BASE + 8 * key + index


def item_id(key: int, slot: int) -> int:
    """The order item id of ``slot`` of order ``key`` (see :data:`ITEMS_PER_ORDER`)."""
    return ITEMS_PER_ORDER * key + slot


def meta_id(owner: int, slot: int) -> int:
    """A meta row id: 16 slots per owner (user id or order key)."""
    return 16 * owner + slot


def username(customer: ShopCustomer) -> str:
    """The user login: the email's local part as ``sanitize_user`` keeps it, made unique by the user id."""
    local = _USERNAME_DROP.sub("", customer.email.split("@")[0]).strip() or "customer"
    return f"{' '.join(local.split())}-{customer_id(customer.key)}"


def display_name(customer: ShopCustomer) -> str:
    """What WordPress shows (and sorts ``orderby=name`` by): the full name, else the login."""
    full = " ".join(part for part in (customer.first_name, customer.last_name) if part)
    return full or username(customer)
