"""Metrics staging, first half: orders, money, line items and carts, each into a table keyed by person.

Called by :func:`connector.segments.metrics.compute_metrics` after the scope tables exist:
``_m_scope(person)``, ``_m_cust(customer_id -> person)``, ``_m_guest(email -> person)`` and
``_m_rates(currency -> rate)``. A full run scans each big table once in storage order and looks
each row's person up by integer key; an incremental run starts from the few persons instead and
reads the big tables through their customer and email indexes.

SQL below is assembled only from this module's constant fragments; every value is a bound
parameter (hence the ``noqa: S608``).
"""

from __future__ import annotations

from typing import Any

from connector.segments.staging import Staging

__all__ = ["COUNTED", "stage_carts", "stage_lines", "stage_orders"]

TS = "TIMESTAMP WITH TIME ZONE"

# A purchase (see the metrics module docstring); refunds reaching the total make it no sale.
COUNTED = (
    "o.status IN ('processing', 'completed', 'on_hold') "
    "AND o.financial_status NOT IN ('pending', 'voided', 'refunded') "
    "AND o.cancelled_at IS NULL AND NOT (o.total > 0 AND o.refunded_total >= o.total)"
)
# Paid at some point (a later refund does not undo that the cart was bought): recovers a cart.
PAID = ("o.status NOT IN ('pending', 'failed', 'draft', 'cancelled') "
        "AND o.financial_status NOT IN ('pending', 'voided') AND o.cancelled_at IS NULL")


_MERGE_UNITS = ("ON CONFLICT (person, title, category, product_type) DO UPDATE "
                "SET units = _m_lines.units + excluded.units")


def _stage_guest_orders(s: Staging, params: dict[str, Any], full: bool, guests_in: str) -> None:
    """The scoped persons' guest checkouts -> ``_m_oguest`` (order id -> person).

    A full run reads the orders once in storage order: visiting the ~5% of guest orders at
    random through the customer index costs more once the store outgrows the page cache.
    """
    s.temp("_m_oguest", "order_id INTEGER PRIMARY KEY, person INTEGER NOT NULL")
    guest = f"{s.unindexed('o.customer_id')} IS NULL"
    source = (f"FROM orders o CROSS JOIN _m_guest x WHERE {guest} AND x.email = o.email" if full else
              f"FROM _m_guest x CROSS JOIN orders o WHERE o.email = x.email AND {guest}")
    s.run(f"INSERT INTO _m_oguest SELECT o.id, x.person {source} {guests_in}", params)  # noqa: S608
    s.analyze("_m_oguest")


def _orders_of_persons(full: bool, exclude_test: bool, where: str) -> list[tuple[str, str]]:
    """(person expression, FROM/WHERE clause) pairs reaching the scoped persons' orders ``o``.

    A full run reads every order once and finds its person by integer key, as a customer's or a
    guest checkout's; an incremental run starts from the persons and uses the orders' indexes.
    """
    test = "AND NOT o.test" if exclude_test else ""
    if full:
        return [("COALESCE(x.person, g.person)",
                 "FROM orders o LEFT JOIN _m_cust x ON x.customer_id = o.customer_id "
                 "LEFT JOIN _m_oguest g ON g.order_id = o.id "
                 f"WHERE COALESCE(x.person, g.person) IS NOT NULL AND {where} {test}")]
    return [("x.person", f"FROM _m_cust x CROSS JOIN orders o WHERE o.customer_id = x.customer_id AND {where} {test}"),
            ("g.person", f"FROM _m_oguest g CROSS JOIN orders o WHERE o.id = g.order_id AND {where} {test}")]


def stage_orders(s: Staging, params: dict[str, Any], *, full: bool, exclude_test: bool, guests_in: str) -> None:
    """Counted orders -> ``_m_grp`` -> ``profile_money``, ``_m_conv`` (reporting currency) and ``_m_ord``.

    ``_m_grp`` groups one scan of the counted orders by person, currency, shop and channel: the
    per-person figures, the money rows and the shop and channel sets are read from it instead of
    from the orders again. Discount codes, a JSON array on 15% of orders or so, get their own scan.
    """
    _stage_guest_orders(s, params, full, guests_in)
    s.temp("_m_grp", f"person INTEGER NOT NULL, currency TEXT NOT NULL, shop TEXT NOT NULL, channel TEXT, "
                     f"orders INTEGER NOT NULL, discount_orders INTEGER NOT NULL, net BIGINT NOT NULL, "
                     f"first_at {TS}, last_at {TS}")
    sources = _orders_of_persons(full, exclude_test, COUNTED)
    for person, source in sources:
        s.run(f"INSERT INTO _m_grp SELECT {person}, o.currency, o.shop, o.source_channel, COUNT(*), "  # noqa: S608
              "SUM(CASE WHEN o.discount_codes <> '[]' THEN 1 ELSE 0 END), SUM(o.total - o.refunded_total), "
              f"MIN(o.created_at), MAX(o.created_at) {source} "
              f"GROUP BY {person}, o.currency, o.shop, o.source_channel", params)
    s.analyze("_m_grp")
    codes = s.json_elements("o.discount_codes", "j")
    union = " UNION ALL ".join(
        f"SELECT {person} AS person, j.value AS value {source.replace(' WHERE ', f' {codes} WHERE ', 1)} "
        f"AND o.discount_codes <> '[]'" for person, source in sources
    )
    s.run(f"INSERT INTO profile_values (person, name, value, pipeline) SELECT person, 'discount_codes', value, :p "  # noqa: S608
          f"FROM ({union}) v WHERE value IS NOT NULL AND value <> '' GROUP BY person, value ORDER BY person, value",
          params)

    s.run("INSERT INTO profile_money (person, currency, pipeline, orders, total_spent) "
          "SELECT person, currency, :p, SUM(orders), SUM(net) FROM _m_grp GROUP BY person, currency", params)
    s.temp("_m_conv", "person INTEGER PRIMARY KEY, spent BIGINT NOT NULL, converted INTEGER NOT NULL, "
                      "unconverted INTEGER NOT NULL")
    converted = s.round_half_up(f"{s.as_float('m.total_spent')} * r.rate")
    s.run(f"INSERT INTO _m_conv SELECT m.person, "  # noqa: S608
          f"SUM(CASE WHEN r.rate IS NULL THEN 0 ELSE {converted} END), "
          f"SUM(CASE WHEN r.rate IS NULL THEN 0 ELSE m.orders END), "
          f"SUM(CASE WHEN r.rate IS NULL THEN m.orders ELSE 0 END) "
          f"FROM profile_money m LEFT JOIN _m_rates r ON r.currency = m.currency "
          f"WHERE m.person IN (SELECT person FROM _m_scope) GROUP BY m.person")
    s.temp("_m_ord", f"person INTEGER PRIMARY KEY, orders INTEGER NOT NULL, discount_orders INTEGER NOT NULL, "
                     f"first_at {TS}, last_at {TS}")
    s.run("INSERT INTO _m_ord SELECT person, SUM(orders), SUM(discount_orders), MIN(first_at), MAX(last_at) "
          "FROM _m_grp GROUP BY person")
    s.analyze("_m_conv", "_m_ord")


def stage_lines(s: Staging, params: dict[str, Any], *, full: bool, exclude_test: bool) -> None:
    """Line items of counted orders -> ``_m_lines``, then per person and category/product type.

    Units are ``quantity - refunded_quantity``. A full run reads every line item once, with its
    order (whether it counts) and its person by integer key; that one grouping is the only sort
    of the line items. ``_m_category`` and ``_m_product_type`` (units per person and value) are
    clustered by person, so the favourites and the sets are read from them without sorting.
    """
    test = "AND NOT o.test" if exclude_test else ""
    units = "CASE WHEN li.quantity > li.refunded_quantity THEN li.quantity - li.refunded_quantity ELSE 0 END"
    # Clustered by (person, title): the products set is then read without sorting. '' stands for
    # no category or type (a primary key column cannot be NULL in a clustered SQLite table).
    s.temp("_m_lines", "person INTEGER NOT NULL, title TEXT NOT NULL, category TEXT NOT NULL, "
                       "product_type TEXT NOT NULL, units INTEGER NOT NULL, "
                       "PRIMARY KEY (person, title, category, product_type)", clustered=True)
    group = "li.title, COALESCE(li.category, ''), COALESCE(li.product_type, '')"
    if full:
        sources = [("COALESCE(x.person, g.person)",
                    "FROM line_items li CROSS JOIN orders o LEFT JOIN _m_cust x ON x.customer_id = o.customer_id "
                    "LEFT JOIN _m_oguest g ON g.order_id = o.id WHERE o.id = li.order_id "
                    f"AND COALESCE(x.person, g.person) IS NOT NULL AND {COUNTED} {test}", "")]
    else:  # customers' lines, then guests' merged in (they meet when an account holder checks out as a guest)
        sources = [
            ("x.person", "FROM _m_cust x CROSS JOIN orders o CROSS JOIN line_items li "
                         f"WHERE o.customer_id = x.customer_id AND li.order_id = o.id AND {COUNTED} {test}", ""),
            ("g.person", "FROM _m_oguest g CROSS JOIN orders o CROSS JOIN line_items li "
                         f"WHERE o.id = g.order_id AND li.order_id = o.id AND {COUNTED} {test}", _MERGE_UNITS),
        ]
    for person, source, merge in sources:
        s.run(f"INSERT INTO _m_lines SELECT {person}, {group}, SUM({units}) {source} "  # noqa: S608
              f"GROUP BY {person}, {group} HAVING SUM({units}) > 0 ORDER BY 1, 2, 3, 4 {merge}")
    s.analyze("_m_lines")
    for column in ("category", "product_type"):
        table = f"_m_{column}"
        s.temp(table, "person INTEGER NOT NULL, value TEXT NOT NULL, units INTEGER NOT NULL, "
                      "PRIMARY KEY (person, value)", clustered=True)
        s.run(f"INSERT INTO {table} SELECT person, {column}, SUM(units) FROM _m_lines "  # noqa: S608
              f"WHERE {column} <> '' GROUP BY person, {column} ORDER BY person, {column}")
        s.temp(f"{table}_top", "person INTEGER PRIMARY KEY, units INTEGER NOT NULL")
        s.run(f"INSERT INTO {table}_top SELECT person, MAX(units) FROM {table} GROUP BY person")  # noqa: S608
        s.temp(f"_m_fav_{column}", "person INTEGER PRIMARY KEY, value TEXT NOT NULL")
        s.run(f"INSERT INTO _m_fav_{column} SELECT c.person, MIN({s.text_order('c.value')}) "  # noqa: S608
              f"FROM {table} c CROSS JOIN {table}_top t WHERE t.person = c.person AND c.units = t.units "
              f"GROUP BY c.person")


def stage_carts(s: Staging, params: dict[str, Any], *, full: bool, exclude_test: bool, guests_in: str) -> None:
    """Carts -> ``_m_cart``: each person's latest open cart, unless a paid order came after it.

    A cart without a customer (a guest's checkout) belongs to the person with that email: by a
    guest-checkout link, else as the person's current email. Only the latest open carts are
    checked for a later paid order, through the orders' customer and email indexes.
    """
    s.temp("_m_mail", "email TEXT PRIMARY KEY, person INTEGER NOT NULL")
    s.run("INSERT INTO _m_mail SELECT email, MIN(person) FROM (SELECT email, person FROM _m_guest UNION ALL "
          "SELECT p.email, p.id FROM _m_scope x CROSS JOIN persons p WHERE p.id = x.person) m GROUP BY email")
    s.temp("_m_carts", f"person INTEGER NOT NULL, cart INTEGER NOT NULL, updated_at {TS}")
    if full:
        sources = (
            "FROM carts c CROSS JOIN _m_cust x WHERE c.completed_at IS NULL AND x.customer_id = c.customer_id",
            "FROM carts c CROSS JOIN _m_mail x WHERE c.completed_at IS NULL AND c.customer_id IS NULL "
            f"AND x.email = c.email {guests_in}",
        )
    else:
        sources = (
            # Through the customer's source id: carts are indexed by customer_ref, not customer_id.
            "FROM _m_cust x CROSS JOIN customers u CROSS JOIN carts c WHERE u.id = x.customer_id "
            "AND c.customer_ref = u.source_id AND c.customer_id = x.customer_id AND c.completed_at IS NULL",
            "FROM _m_mail x CROSS JOIN carts c WHERE c.email = x.email AND c.customer_id IS NULL "
            f"AND c.completed_at IS NULL {guests_in}",
        )
    for source in sources:
        s.run(f"INSERT INTO _m_carts SELECT x.person, c.id, c.updated_at {source}", params)  # noqa: S608
    s.temp("_m_cart", f"person INTEGER PRIMARY KEY, cart INTEGER NOT NULL, updated_at {TS}")
    s.run("INSERT INTO _m_cart SELECT person, cart, updated_at FROM (SELECT person, cart, updated_at, ROW_NUMBER() "
          "OVER (PARTITION BY person ORDER BY updated_at DESC, cart DESC) AS rn FROM _m_carts) ranked WHERE rn = 1")
    test = "AND NOT o.test" if exclude_test else ""
    later = f"o.created_at > k.updated_at AND {PAID} {test}"
    s.run(f"DELETE FROM _m_cart WHERE cart IN (SELECT k.cart FROM _m_cart k WHERE "  # noqa: S608
          f"EXISTS (SELECT 1 FROM person_customers x CROSS JOIN orders o WHERE x.person = k.person "
          f"AND o.customer_id = x.customer_id AND {later}) "
          f"OR EXISTS (SELECT 1 FROM person_guests x CROSS JOIN orders o WHERE x.person = k.person "
          f"AND o.email = x.email AND {s.unindexed('o.customer_id')} IS NULL AND {later}))")
    s.analyze("_m_cart")
