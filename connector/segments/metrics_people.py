"""Metrics staging, second half: customers (person fields, consent, attributes), then the profile tables.

Called by :func:`connector.segments.metrics.compute_metrics` after :mod:`.metrics_orders`. The
per-person picks ("the most recently updated customer", "the most recent consent evidence") are
ranked into their own staged table first; the final insert then joins only tables keyed by
person, one key lookup each.

SQL below is assembled only from this module's constant fragments and the attribute specs'
validated names; every value is a bound parameter (hence the ``noqa: S608``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from connector.segments.staging import Staging

__all__ = ["stage_attributes", "stage_customers", "write_metrics", "write_values"]

TS = "TIMESTAMP WITH TIME ZONE"
NO_EVIDENCE = "(c.consent_source = 'default' OR c.consent_source LIKE '%\\:default')"  # \: escapes text()'s bind syntax


class _Spec(Protocol):
    source: str
    type: str


def stage_customers(s: Staging, params: dict[str, Any]) -> None:
    """Customers -> ``_m_latest`` (most recently updated), ``_m_consent`` (deciding record), ``_m_signup``."""
    ranked = ("SELECT x.person, c.id AS customer_id, ROW_NUMBER() OVER (PARTITION BY x.person ORDER BY {order}) AS rn "
              "FROM _m_cust x CROSS JOIN customers c WHERE c.id = x.customer_id")
    orders = {
        "_m_latest": "c.updated_at DESC, c.id DESC",
        "_m_consent": (f"CASE WHEN {NO_EVIDENCE} THEN 1 ELSE 0 END, "
                       "CASE WHEN c.consent_updated_at IS NULL THEN 1 ELSE 0 END, c.consent_updated_at DESC, "
                       "CASE WHEN c.consent_state = 'unsubscribed' THEN 0 ELSE 1 END, c.updated_at DESC, c.id DESC"),
    }
    for table, order in orders.items():
        s.temp(table, "person INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL")
        s.run(f"INSERT INTO {table} SELECT person, customer_id FROM ({ranked.format(order=order)}) r "  # noqa: S608
              f"WHERE rn = 1")
    s.temp("_m_signup", f"person INTEGER PRIMARY KEY, signup_at {TS}, staff INTEGER NOT NULL")
    s.run("INSERT INTO _m_signup SELECT x.person, MIN(c.created_at), MAX(CASE WHEN c.is_staff THEN 1 ELSE 0 END) "
          "FROM _m_cust x CROSS JOIN customers c WHERE c.id = x.customer_id GROUP BY x.person")
    s.analyze("_m_latest", "_m_consent", "_m_signup")


def _raw_value(s: Staging) -> tuple[str, str]:
    """SQL for the attribute ``a`` of customer ``c``: (its scalar value as text, its JSON type).

    Values the store tagged (``{"$date": ...}``, ``{"$decimal": ...}``, ``{"$datetime": ...}``) are
    unwrapped. JSON types are SQLite's (integer, real, text, true, false, object) or PostgreSQL's
    (number, string, boolean, object).
    """
    if s.postgres:
        j = "(CAST(c.attributes AS jsonb) -> a.source)"
        return (f"COALESCE({j} ->> '$date', {j} ->> '$decimal', {j} ->> '$datetime', {j} #>> '{{}}')",
                f"jsonb_typeof({j})")
    path = "('$.\"' || a.source || '\"')"
    tagged = [f"json_extract(c.attributes, {path} || '.\"${tag}\"')" for tag in ("date", "decimal", "datetime")]
    return f"COALESCE({', '.join(tagged)}, json_extract(c.attributes, {path}))", f"json_type(c.attributes, {path})"


def _typed(s: Staging) -> tuple[str, str, str]:
    """SQL turning ``r.v`` (text) of JSON type ``r.t`` into (text, number, date); NULL when not of that type."""
    if s.postgres:
        number = ("CASE WHEN r.t = 'number' THEN CAST(r.v AS DOUBLE PRECISION) WHEN r.t IN ('string', 'object') "
                  "AND r.v ~ '^\\s*[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*$' "
                  "THEN CAST(r.v AS DOUBLE PRECISION) END")
        first = "(CAST(substr(r.v, 1, 8) || '01' AS date) + (CAST(substr(r.v, 9, 2) AS integer) - 1))"
        day = ("CASE WHEN r.t IN ('string', 'object') "
               "AND r.v ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' "
               f"THEN CASE WHEN EXTRACT(MONTH FROM {first}) = CAST(substr(r.v, 6, 2) AS integer) THEN {first} END END")
        return "CASE WHEN r.t = 'null' THEN NULL ELSE r.v END", number, day
    text = "CASE r.t WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL ELSE CAST(r.v AS TEXT) END"
    number = ("CASE WHEN r.t IN ('integer', 'real') THEN CAST(r.v AS REAL) WHEN r.t IN ('text', 'object') "
              "AND trim(r.v) <> '' AND trim(r.v) NOT GLOB '*[^0-9.eE+-]*' AND trim(r.v) GLOB '*[0-9]*' "
              "THEN CAST(trim(r.v) AS REAL) END")
    day = ("CASE WHEN r.t IN ('text', 'object') AND date(substr(r.v, 1, 10), '+0 days') = substr(r.v, 1, 10) "
           "THEN substr(r.v, 1, 10) END")
    return text, number, day


def stage_attributes(s: Staging, params: dict[str, Any], specs: Mapping[str, _Spec]) -> None:
    """``customers.attributes`` -> ``profile_attributes``: per attribute, the most recently updated valid value."""
    if not specs:
        return
    s.temp("_m_spec", "name TEXT PRIMARY KEY, source TEXT NOT NULL, kind TEXT NOT NULL")
    s.fill("_m_spec", ["name", "source", "kind"], [(name, spec.source, spec.type) for name, spec in specs.items()])
    value, json_type = _raw_value(s)
    text, number, day = _typed(s)
    s.temp("_m_attr", f"person INTEGER NOT NULL, name TEXT NOT NULL, value_text TEXT, value_number DOUBLE PRECISION, "
                      f"value_date DATE, updated_at {TS}, customer_id INTEGER NOT NULL")
    s.run(f"INSERT INTO _m_attr SELECT * FROM (SELECT r.person, r.name, "  # noqa: S608
          f"CASE WHEN r.kind = 'text' THEN {text} END AS value_text, "
          f"CASE WHEN r.kind = 'number' THEN {number} END AS value_number, "
          f"CASE WHEN r.kind = 'date' THEN {day} END AS value_date, r.updated_at, r.customer_id "
          f"FROM (SELECT x.person, a.name, a.kind, {value} AS v, {json_type} AS t, c.updated_at, c.id AS customer_id "
          f"FROM _m_cust x CROSS JOIN customers c CROSS JOIN _m_spec a "
          f"WHERE c.id = x.customer_id AND c.attributes <> '{{}}') r) typed "
          f"WHERE value_text IS NOT NULL OR value_number IS NOT NULL OR value_date IS NOT NULL")
    s.run("INSERT INTO profile_attributes (person, name, pipeline, value_text, value_number, value_date) "
          "SELECT person, name, :p, value_text, value_number, value_date FROM (SELECT a.*, ROW_NUMBER() OVER "
          "(PARTITION BY person, name ORDER BY updated_at DESC, customer_id DESC) AS rn FROM _m_attr a) ranked "
          "WHERE rn = 1", params)


def write_metrics(s: Staging, params: dict[str, Any]) -> int:
    """One ``profile_metrics`` row per scoped person, from the staged tables (key lookups only)."""
    frequency = f"({s.days('o.last_at')} - {s.days('o.first_at')}) / (o.orders - 1)"
    cart_reporting = s.round_half_up(f"{s.as_float('ct.value')} * rt.rate")
    lifecycle = ("CASE WHEN o.orders IS NULL OR o.orders = 0 THEN 'prospect' WHEN o.first_at >= :new_from THEN 'new' "
                 "WHEN o.last_at >= :active_from THEN 'active' WHEN o.last_at >= :at_risk_from THEN 'at_risk' "
                 "WHEN o.last_at >= :inactive_from THEN 'inactive' ELSE 'lapsed' END")
    return s.run(
        "INSERT INTO profile_metrics (person, pipeline, as_of, orders_count, unconverted_orders, total_spent, "  # noqa: S608
        "average_order_value, first_order_at, last_order_at, purchase_frequency, favourite_category, "
        "favourite_product_type, discount_orders, cart_value, cart_currency, cart_value_reporting, cart_items, "
        "cart_recovery_url, cart_abandoned_at, signup_at, first_name, last_name, phone, company, country, region, "
        "city, postal_code, birthday, is_b2b, is_staff, consent_state, consent_at, consent_source, lifecycle) "
        "SELECT sc.person, :p, :today, COALESCE(o.orders, 0), COALESCE(cv.unconverted, 0), COALESCE(cv.spent, 0), "
        "CASE WHEN cv.converted > 0 THEN (2 * cv.spent + cv.converted) / (2 * cv.converted) END, "
        f"o.first_at, o.last_at, CASE WHEN o.orders >= 2 THEN {frequency} END, fc.value, ft.value, "
        "COALESCE(o.discount_orders, 0), ct.value, ct.currency, "
        f"CASE WHEN rt.rate IS NOT NULL THEN {cart_reporting} END, "
        f"CASE WHEN ct.id IS NOT NULL THEN COALESCE({s.json_quantity_sum('ct.items')}, 0) END, "
        "ct.recovery_url, ct.updated_at, sg.signup_at, lc.first_name, lc.last_name, lc.phone, lc.company, "
        "lc.country, lc.region, lc.city, lc.postal_code, lc.birthday, "
        "CASE WHEN lc.company IS NOT NULL AND lc.company <> '' THEN TRUE ELSE FALSE END, "
        "CASE WHEN sg.staff = 1 THEN TRUE ELSE FALSE END, COALESCE(cc.consent_state, 'not_subscribed'), "
        f"cc.consent_updated_at, cc.consent_source, {lifecycle} "
        "FROM _m_scope sc "
        "LEFT JOIN _m_ord o ON o.person = sc.person LEFT JOIN _m_conv cv ON cv.person = sc.person "
        "LEFT JOIN _m_fav_category fc ON fc.person = sc.person "
        "LEFT JOIN _m_fav_product_type ft ON ft.person = sc.person "
        "LEFT JOIN _m_cart mk ON mk.person = sc.person LEFT JOIN carts ct ON ct.id = mk.cart "
        "LEFT JOIN _m_rates rt ON rt.currency = ct.currency "
        "LEFT JOIN _m_signup sg ON sg.person = sc.person "
        "LEFT JOIN _m_latest ml ON ml.person = sc.person LEFT JOIN customers lc ON lc.id = ml.customer_id "
        "LEFT JOIN _m_consent mc ON mc.person = sc.person LEFT JOIN customers cc ON cc.id = mc.customer_id",
        params,
    ).rowcount


def write_values(s: Staging, params: dict[str, Any]) -> None:
    """The set-valued facts -> ``profile_values``, one statement per set, written in key order.

    Categories, product types and products come from tables clustered by person (read without
    sorting); discount codes were written by :func:`.metrics_orders.stage_orders`.
    """
    tags = s.json_elements("c.tags", "j")
    sets = {  # name: (value, the rest of the SELECT)
        "categories": ("value", "FROM _m_category"),
        "product_types": ("value", "FROM _m_product_type"),
        "products": ("title", "FROM _m_lines GROUP BY person, title"),
        "channels": ("channel", "FROM _m_grp WHERE channel <> '' GROUP BY person, channel ORDER BY person, channel"),
        "shops": ("value", "FROM (SELECT person, shop AS value FROM _m_grp UNION SELECT x.person, c.shop "
                           "FROM _m_cust x CROSS JOIN customers c WHERE c.id = x.customer_id) v "
                           "ORDER BY person, value"),
        "shop_tags": ("j.value", f"FROM _m_cust x CROSS JOIN customers c {tags} WHERE c.id = x.customer_id "
                                 f"AND c.tags <> '[]' AND j.value <> '' GROUP BY x.person, j.value "
                                 f"ORDER BY x.person, j.value"),
    }
    for name, (value, rest) in sets.items():
        person = "x.person" if name == "shop_tags" else "person"
        s.run(f"INSERT INTO profile_values (person, name, value, pipeline) "  # noqa: S608
              f"SELECT {person}, '{name}', {value}, :p {rest}", params)
