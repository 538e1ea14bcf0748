"""Where each catalog field lives in the store's profile tables: the glue between rules and metrics.

:func:`store_columns` maps every built-in field of :func:`~connector.segments.catalog.default_catalog`
to a column of ``profile_metrics`` (or ``persons``), or to an expression over them, for
:func:`~connector.segments.sql.compile_rule`. A query filtering persons by a rule joins
``profile_metrics`` to ``persons`` (see :func:`person_selection`).

Fields computed at query time from the injected ``today`` (never the clock), so that time-based
segments move with the date alone:

* ``days_since_last_order``: whole UTC days from the last order's day to ``today``;
* ``birthday_month``: the month of ``birthday``;
* ``has_open_cart``: an open cart exists; ``rfm_score``: the three scores as digits, e.g. ``545``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Integer, Select, String, cast, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from connector.segments.nodes import Rule
from connector.segments.sql import ProfileColumns, compile_rule
from connector.store.schema import persons, profile_attributes, profile_metrics, profile_values

__all__ = ["person_selection", "store_columns"]


class _DaysSince(FunctionElement[int]):
    """Whole days from the UTC day of a timestamp to a given day (NULL stays NULL)."""

    type = Integer()
    inherit_cache = True


class _MonthOf(FunctionElement[int]):
    """The month (1–12) of a date."""

    type = Integer()
    inherit_cache = True


@compiles(_DaysSince, "sqlite")
def _days_since_sqlite(element: _DaysSince, compiler: SQLCompiler, **kw: Any) -> str:
    moment, day = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({day}) - julianday(date({moment})) AS INTEGER)"


@compiles(_DaysSince, "postgresql")
def _days_since_postgresql(element: _DaysSince, compiler: SQLCompiler, **kw: Any) -> str:
    moment, day = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST({day} AS DATE) - CAST(({moment} AT TIME ZONE 'UTC') AS DATE))"


@compiles(_MonthOf, "sqlite")
def _month_sqlite(element: _MonthOf, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(strftime('%m', {value}) AS INTEGER)"


@compiles(_MonthOf, "postgresql")
def _month_postgresql(element: _MonthOf, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(MONTH FROM {value}) AS INTEGER)"


def store_columns(today: date) -> ProfileColumns:
    """The catalog's fields over ``profile_metrics`` joined to ``persons``, as of ``today``."""
    m = profile_metrics.c
    scalars: dict[str, ColumnElement[Any]] = {
        "email": persons.c.email,
        **{name: m[name] for name in ("first_name", "last_name", "phone", "country", "region", "city",
                                      "postal_code", "company", "favourite_category", "favourite_product_type",
                                      "is_b2b", "is_staff", "lifecycle", "rfm_group", "orders_count",
                                      "rfm_recency", "rfm_frequency", "rfm_monetary", "cart_items",
                                      "discount_orders", "total_spent", "average_order_value",
                                      "purchase_frequency", "birthday", "cart_abandoned_at", "spend_percentile")},
        "consent": m.consent_state,
        "cart_url": m.cart_recovery_url,
        "cart_value": m.cart_value_reporting,
        "has_open_cart": m.cart_value.is_not(None),
        "rfm_score": cast(m.rfm_recency, String) + cast(m.rfm_frequency, String) + cast(m.rfm_monetary, String),
        "first_order_date": m.first_order_at,
        "last_order_date": m.last_order_at,
        "signup_date": m.signup_at,
        "consent_date": m.consent_at,
        "days_since_last_order": _DaysSince(m.last_order_at, literal(today.isoformat(), String)),
        "birthday_month": _MonthOf(m.birthday),
    }
    return ProfileColumns(profile_id=m.person, scalars=scalars, values=profile_values,
                          attributes=profile_attributes, link_column="person")


def person_selection(pipeline: str, rule: Rule, today: date) -> Select[tuple[str]]:
    """``SELECT person_id`` of the pipeline's persons the rule selects, as of ``today``."""
    condition = compile_rule(rule, store_columns(today), today=today)
    return (
        select(persons.c.person_id)
        .select_from(profile_metrics.join(persons, persons.c.id == profile_metrics.c.person))
        .where(profile_metrics.c.pipeline == pipeline, condition)
        .order_by(persons.c.person_id)
    )
