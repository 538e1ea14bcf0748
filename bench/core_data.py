"""A large synthetic store for ``bench/core.py``, written by SQL straight into the store's tables (SQLite).

The store's own upserts validate and convert every record (about 3,000 orders a second, see
the README): half an hour for a million customers. The segmentation bench only needs the rows,
so they are generated inside SQLite by ``INSERT ... SELECT`` over a numbers table, with the
secondary indexes dropped during the load and rebuilt after it (a sort instead of millions of
random index inserts). Values are derived from the row number by multiplicative hashing, so
the same ``--customers`` always gives the same store.

Shape, per customer: about 5 orders (5% guest checkouts, half of them by an email that also has
an account), 1 + (n mod 4) line items per order (2.5 on average), half a cart. Two shops
(``alpha`` 70%, ``beta`` 30%); every third tenth of ``beta`` customers share their email with an
``alpha`` customer (the same person in two shops). Order statuses: 87% completed, 2% processing,
1% on hold, 2% pending, 1% failed, 1% draft, 2% cancelled, 3% refunded, 1% partially refunded;
0.5% test orders; currencies USD 60%, EUR 25%, GBP 15% by customer; 15% with a discount code.
Customers: 40% with a birthday metafield and a loyalty tier, consent mixed, 1 in 20,000 staff.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

__all__ = ["generate"]

_T0 = 1609459200  # 2021-01-01 UTC
_SPAN = 4 * 365 * 86400
_H = "((({x}) * 2654435761) % 4294967296)"  # a multiplicative hash of an integer expression


def _h(expression: str) -> str:
    return _H.format(x=expression)


def _ts(seconds: str) -> str:
    """The store's SQLite timestamp text for ``_T0 + seconds``."""
    return f"(strftime('%Y-%m-%d %H:%M:%S', {_T0} + ({seconds}), 'unixepoch') || '.000000')"


def _customers(n: int) -> str:
    shop = "CASE WHEN i % 10 < 7 THEN 'alpha' ELSE 'beta' END"
    email = "'p' || CASE WHEN i % 10 >= 7 AND (i / 10) % 3 = 0 THEN i - 3 ELSE i END || '@mail.example.net'"
    created = f"i * {_SPAN // max(n, 1)}"
    birthday = ("'{\"facts.birthday\":{\"$date\":\"' || (1950 + i % 50) || '-' || printf('%02d', 1 + i % 12) "
                "|| '-' || printf('%02d', 1 + i % 28) || '\"},\"loyalty_tier\":\"gold\"}'")
    consent = ("CASE WHEN i % 100 < 45 THEN 'subscribed' WHEN i % 100 < 80 THEN 'not_subscribed' "
               "WHEN i % 100 < 92 THEN 'unsubscribed' ELSE 'pending' END")
    return f"""
    INSERT INTO customers SELECT i, 'shopify:' || {shop} || ':' || i, 'shopify', {shop}, {email},
      'First' || (i % 500), 'Last' || (i % 900), CASE WHEN i % 10 < 7 THEN '+336' || (10000000 + i % 89999999) END,
      CASE WHEN i % 12 = 0 THEN 'Company ' || (i % 1000) END, 'fr-FR',
      CASE i % 4 WHEN 0 THEN 'FR' WHEN 1 THEN 'US' WHEN 2 THEN 'GB' ELSE 'DE' END, NULL,
      'City ' || (i % 300), printf('%05d', i % 99999), NULL,
      CASE WHEN i % 7 = 0 THEN '["loyalty-gold"]' WHEN i % 11 = 0 THEN '["vip","wholesale"]' ELSE '[]' END,
      CASE WHEN i % 5 < 2 THEN {birthday} ELSE '{{}}' END,
      {consent}, CASE WHEN i % 100 < 45 OR i % 100 >= 80 THEN {_ts(created)} END,
      'shopify:emailMarketingConsent', NULL, i % 20000 = 1,
      {_ts(created)}, {_ts(f"{created} + 2592000")}, {_ts(created)}
    FROM n WHERE i <= {n}"""  # noqa: S608 - generated from constants


def _orders(n: int) -> str:
    h = _h("i")
    cust = f"(1 + {h} % {n})"
    guest = "i % 20 = 0"
    status = "((i * 7919) % 100)"
    shop = f"CASE WHEN {guest} OR {cust} % 10 < 7 THEN 'alpha' ELSE 'beta' END"
    total = f"((1000 + ({h} / 7) % 20000) * 100)"
    statuses = (f"CASE WHEN {status} < 87 THEN 'completed' WHEN {status} < 89 THEN 'processing' "
                f"WHEN {status} < 90 THEN 'on_hold' WHEN {status} < 92 THEN 'pending' "
                f"WHEN {status} < 93 THEN 'failed' WHEN {status} < 94 THEN 'draft' WHEN {status} < 96 THEN 'cancelled' "
                f"WHEN {status} < 99 THEN 'refunded' ELSE 'completed' END")
    financial = (f"CASE WHEN {status} < 90 THEN 'paid' WHEN {status} < 94 THEN 'pending' WHEN {status} < 96 "
                 f"THEN 'voided' WHEN {status} < 99 THEN 'refunded' ELSE 'partially_refunded' END")
    refunded = (f"CASE WHEN {status} BETWEEN 96 AND 98 THEN {total} WHEN {status} = 99 THEN {total} / 400 * 100 "
                "ELSE 0 END")
    created = f"({h} % {_SPAN})"
    currency = f"CASE WHEN {cust} % 20 < 12 THEN 'USD' WHEN {cust} % 20 < 17 THEN 'EUR' ELSE 'GBP' END"
    codes = ("CASE WHEN (i * 31) % 100 < 15 THEN CASE i % 3 WHEN 0 THEN '[\"WELCOME10\"]' WHEN 1 THEN '[\"SUMMER20\"]' "
             "ELSE '[\"VIP15\",\"FREESHIP\"]' END ELSE '[]' END")
    email = (f"CASE WHEN NOT ({guest}) THEN NULL WHEN i % 40 = 0 THEN 'p' || {cust} || '@mail.example.net' "
             f"ELSE 'guest' || ({h} % {max(n // 5, 1)}) || '@mail.example.net' END")
    return f"""
    INSERT INTO orders SELECT i, 'shopify:' || {shop} || ':o' || i, 'shopify', {shop},
      CASE WHEN {guest} THEN NULL ELSE 'shopify:' || {shop} || ':' || {cust} END,
      CASE WHEN {guest} THEN NULL ELSE {cust} END, {email}, CAST(1000 + i AS TEXT),
      {statuses}, {financial}, {currency}, {total}, 0, 0, 0, {total}, {refunded}, {codes},
      CASE i % 10 WHEN 0 THEN 'pos' WHEN 1 THEN 'mobile' ELSE 'web' END, i % 200 = 7,
      {_ts(created)}, {_ts(created)}, {_ts(created)},
      CASE WHEN {status} BETWEEN 94 AND 95 THEN {_ts(created + " + 3600")} END,
      'FR', NULL, NULL, NULL, '{{}}', {_ts(created)}
    FROM n WHERE i <= {5 * n}"""  # noqa: S608 - generated from constants


def _line_items() -> str:
    h = _h("o.id * 4 + k.k")
    product = f"(1 + ({h} % 200) * (({h} / 200) % 200) / 200)"  # skewed towards low numbers
    return f"""
    INSERT INTO line_items SELECT o.id, k.k, o.customer_id, NULL, CAST({product} AS TEXT), NULL, NULL,
      'Product ' || {product}, 'Type ' || ({product} % 8), 'Category ' || ({product} % 20), 'Acme',
      1 + {h} % 3, 199000, NULL,
      CASE WHEN o.financial_status = 'partially_refunded' AND k.k = 0 THEN 1 ELSE 0 END
    FROM orders o CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k
    WHERE k.k <= o.id % 4"""  # noqa: S608 - generated from constants


def _carts(n: int) -> str:
    h = _h("i + 17")
    cust = f"(1 + {h} % {n})"
    updated = f"({h} % {_SPAN})"
    items = "'[{\"quantity\":' || (1 + i % 3) || ',\"title\":\"Product ' || (i % 200) || '\",\"unit_price\":\"19.9\"}]'"
    return f"""
    INSERT INTO carts SELECT i, 'shopify:alpha:c' || i, 'shopify', 'alpha',
      CASE WHEN i % 7 = 0 THEN NULL ELSE 'shopify:alpha:' || {cust} END,
      CASE WHEN i % 7 = 0 THEN NULL ELSE {cust} END, 'p' || {cust} || '@mail.example.net', 'EUR',
      (1000 + i % 5000) * 100, {items}, {_ts(updated)}, {_ts(updated)},
      CASE WHEN i % 10 < 3 THEN {_ts(updated + " + 7200")} END,
      'https://alpha.example/cart/' || i, {_ts(updated)}
    FROM n WHERE i <= {n // 2}"""  # noqa: S608 - generated from constants


def generate(engine: Engine, customers: int) -> None:
    """Fill the (empty, migrated) SQLite store behind ``engine`` with ``customers`` customers and their data."""
    with engine.begin() as conn:
        indexes = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('customers', 'orders', 'line_items', 'carts')")).all()
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.exec_driver_sql("CREATE TEMPORARY TABLE n (i INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "  # noqa: S608
                             f"WHERE i < {5 * customers}) INSERT INTO n SELECT i FROM c")
        for statement in (_customers(customers), _orders(customers), _line_items(), _carts(customers)):
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("DROP TABLE n")
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)
