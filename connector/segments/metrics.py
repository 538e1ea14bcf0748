"""Metrics per person, computed in the store with set-based SQL staged step by step.

:func:`compute_metrics` fills ``profile_metrics`` (one row per person), ``profile_money`` (per
person and order currency), ``profile_values`` (set-valued facts) and ``profile_attributes``
(custom attributes from config) for the persons of one pipeline, or only for some of them (the
incremental case). Each step writes a temporary table keyed by person that the next steps join
by key; no statement joins onto a window-function result (see :mod:`.staging`).

Definitions:

- **Counted order** (a purchase): status processing, completed or on hold; financial status not
  pending, voided or refunded; not cancelled; not refunded in full (refunds reaching the total);
  not a test order when ``exclude_test_orders``. Its amount is ``total - refunded_total``
  (:attr:`connector.models.Order.net_total`). Pending, failed and draft orders are unpaid.
- **Money**: exact per order currency in ``profile_money``; in the reporting currency, each
  currency's total is converted with its static rate and rounded half up to 0.0001, and
  ``average_order_value`` is that total over the orders that could be converted. Orders in a
  currency without a rate are counted in ``unconverted_orders``, never guessed.
- **Days** are UTC calendar days: the store keeps UTC only, so an order placed at 23:30 in
  UTC-5 counts on the next day. Lifecycle stages and RFM recency compare those days with the
  injected ``today``; nothing reads the system clock.
- **Favourite category / product type**: most units bought (quantity less refunded quantity, in
  counted orders); ties go to the first name in code-point order.
- **Open cart**: the person's latest cart (by ``updated_at``) not completed, unless the person
  placed a paid order (not pending, failed, draft, cancelled or voided) after it.
- **Person fields** (name, phone, address, company, birthday) come from the most recently
  updated customer; ``signup_at`` is the earliest customer creation; ``is_b2b``: a company.
- **Consent**: the most recent evidence by consent ``updated_at`` across the person's customers.
  A record without a date is older than any dated one; on a tie an unsubscribe wins; a record
  whose source is ``default`` or ends in ``:default`` carries no evidence and only counts when
  no customer has any.
- **RFM**: ranks over the pipeline's persons with at least one counted order (recency by last
  order day, frequency by orders, monetary by total spent in the reporting currency), scored
  with :func:`connector.segments.rfm.score_from_rank`'s formula (computed from boundary values,
  see :mod:`.metrics_rfm`) and grouped with :func:`~connector.segments.rfm.group_case`.
- **Sets** (``profile_values``): categories, product_types, products (line item titles, as a
  marketer names them), shops (the source shops the person is known in), shop_tags,
  discount_codes and channels.
- **Attributes**: config maps ``name -> (source key, type)``; the most recently updated customer
  with a valid value of that type wins.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlalchemy import Connection

from connector.segments import metrics_orders, metrics_people, metrics_rfm
from connector.segments.currency import ReportingRates
from connector.segments.identity import SET_NAMES_SQL
from connector.segments.lifecycle import LifecycleThresholds
from connector.segments.staging import Staging

__all__ = ["AttributeSpec", "MetricsReport", "compute_metrics"]


def _pair(value: Any) -> Any:
    if isinstance(value, tuple | list) and len(value) == 2:
        return {"source": value[0], "type": value[1]}
    return value


class AttributeSpec(BaseModel):
    """Where a custom profile attribute comes from: a key of ``customers.attributes`` and a type.

    The key is a Shopify metafield ``namespace.key`` or a WooCommerce meta key, as the source
    stores it. Also accepted as a ``(source, type)`` pair.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1)
    type: Literal["text", "number", "date"]

    @field_validator("source")
    @classmethod
    def _quotable(cls, value: str) -> str:
        if '"' in value or "\\" in value:
            raise ValueError(f"attribute source key {value!r}: double quotes and backslashes are not supported")
        return value


AttributeMap = Mapping[str, Annotated[AttributeSpec, BeforeValidator(_pair)]]


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: ReportingRates
    attributes: AttributeMap = Field(default_factory=dict)


class MetricsReport(BaseModel):
    """What one computation wrote."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    persons: int  # profile rows written (the persons computed)
    buyers: int  # the pipeline's persons with a counted order: the RFM base
    rfm_updated: int  # rows whose RFM scores changed (all buyers' in a full run)
    # Incremental run: persons outside ``persons`` whose RFM scores or spend percentile moved with the
    # re-ranking (their contacts' RFM fields change too); ``None`` in a full run.
    rescored: tuple[str, ...] | None = None


def compute_metrics(
    conn: Connection,
    pipeline: str,
    *,
    today: date,
    rates: Mapping[str, Decimal | str | int],
    reporting_currency: str,
    persons: Collection[str] | None = None,
    exclude_test_orders: bool = False,
    attributes: Mapping[str, AttributeSpec | tuple[str, str]] | None = None,
    lifecycle: LifecycleThresholds | None = None,
    shops: Collection[str] | None = None,
) -> MetricsReport:
    """Recompute the profile tables of ``pipeline`` (see the module docstring for every definition).

    Args:
        conn: a connection inside a write transaction.
        pipeline: whose persons to compute.
        today: the day lifecycle stages are computed for (injected; never the system clock).
        rates: ``{currency: value of one unit in the reporting currency}``.
        reporting_currency: the ISO 4217 code totals are reported in.
        persons: only these ``person_id`` keys (the incremental case); ``None``: every person.
            RFM scores are then re-ranked over the whole pipeline from the stored figures; the
            other persons' lifecycle stages stay as of their last computation (``as_of``), since
            only the daily full refresh moves everyone to a new ``today``.
        exclude_test_orders: leave test orders out of every figure.
        attributes: ``{profile attribute name: AttributeSpec or (source key, type)}``.
        lifecycle: stage thresholds (default: 30/90/180/365 days).
        shops: the pipeline's shops; guest orders and guest carts of other shops are ignored.
            ``None``: guests are matched by email in every shop.

    Raises:
        pydantic.ValidationError: an unknown currency, a non-positive rate or a bad attribute spec.
    """
    options = _Options.model_validate({
        "currency": {"reporting_currency": reporting_currency, "rates": rates},
        "attributes": attributes or {},
    })
    thresholds = lifecycle or LifecycleThresholds()
    params: dict[str, Any] = {"p": pipeline, "today": today}
    params.update(_lifecycle_bounds(today, thresholds))
    guests_in = "AND o.shop IN :shops" if shops is not None else ""
    if shops is not None:
        params["shops"] = sorted(set(shops)) or [""]
    with Staging(conn) as s:
        full = persons is None
        _scope(s, params, persons)
        _clear(s, params, full)
        s.temp("_m_rates", "currency TEXT PRIMARY KEY, rate DOUBLE PRECISION NOT NULL")
        s.fill("_m_rates", ["currency", "rate"], [(c, float(r)) for c, r in sorted(options.currency.rates.items())])
        metrics_orders.stage_orders(s, params, full=full, exclude_test=exclude_test_orders, guests_in=guests_in)
        metrics_orders.stage_lines(s, params, full=full, exclude_test=exclude_test_orders)
        metrics_orders.stage_carts(s, params, full=full, exclude_test=exclude_test_orders,
                                   guests_in=guests_in.replace("o.shop", "c.shop"))
        metrics_people.stage_customers(s, params)
        metrics_people.stage_attributes(s, params, options.attributes)
        written = metrics_people.write_metrics(s, params)
        metrics_people.write_values(s, params)
        buyers, rfm = metrics_rfm.update_rfm(s, params)
        rescored = None if full else _rescored(s)
    return MetricsReport(persons=written, buyers=buyers, rfm_updated=rfm, rescored=rescored)


def _rescored(s: Staging) -> tuple[str, ...]:
    """The persons re-ranking moved (staged by the RFM step), outside the computed scope."""
    if not s.exists("_m_rfm"):
        return ()
    spend = " UNION SELECT person FROM _m_sp" if s.exists("_m_sp") else ""
    rows = s.run(f"SELECT p.person_id FROM persons p JOIN (SELECT person FROM _m_rfm{spend}) x "  # noqa: S608
                 "ON p.id = x.person WHERE p.id NOT IN (SELECT person FROM _m_scope) ORDER BY p.person_id").scalars()
    return tuple(rows)


def _lifecycle_bounds(today: date, limits: LifecycleThresholds) -> dict[str, datetime]:
    """The earliest instant (UTC midnight) of each stage, so SQL compares stored times, not dates.

    ``(today - day).days < n`` holds exactly when ``day >= today - n + 1``.
    """
    def since(days: int) -> datetime:
        return datetime.combine(today - timedelta(days=days - 1), time(), tzinfo=UTC)

    return {"new_from": since(limits.new_days), "active_from": since(limits.at_risk_days),
            "at_risk_from": since(limits.inactive_days), "inactive_from": since(limits.lapsed_days)}


def _scope(s: Staging, params: dict[str, Any], persons: Collection[str] | None) -> None:
    """Stage the persons to compute (``_m_scope``), their customers (``_m_cust``) and guest emails (``_m_guest``)."""
    s.temp("_m_scope", "person INTEGER PRIMARY KEY")
    s.temp("_m_cust", "customer_id INTEGER PRIMARY KEY, person INTEGER NOT NULL")
    s.temp("_m_guest", "email TEXT PRIMARY KEY, person INTEGER NOT NULL")
    if persons is None:
        s.run("INSERT INTO _m_scope SELECT id FROM persons WHERE pipeline = :p", params)
        s.run("INSERT INTO _m_cust SELECT customer_id, person FROM person_customers WHERE pipeline = :p", params)
        s.run("INSERT INTO _m_guest SELECT email, person FROM person_guests WHERE pipeline = :p", params)
    else:
        s.temp("_m_keys", "person_id TEXT PRIMARY KEY")
        s.fill("_m_keys", ["person_id"], ((key,) for key in sorted(set(persons))))
        s.run("INSERT INTO _m_scope SELECT p.id FROM _m_keys k CROSS JOIN persons p "
              "WHERE p.pipeline = :p AND p.person_id = k.person_id", params)
        # By person alone (ids are unique across pipelines): with the pipeline too, SQLite would
        # pick the (pipeline, ...) primary key and read every link of the pipeline.
        s.run("INSERT INTO _m_cust SELECT pc.customer_id, pc.person FROM _m_scope x CROSS JOIN person_customers pc "
              "WHERE pc.person = x.person")
        s.run("INSERT INTO _m_guest SELECT g.email, g.person FROM _m_scope x CROSS JOIN person_guests g "
              "WHERE g.person = x.person")
    s.analyze("_m_scope", "_m_cust", "_m_guest")


def _clear(s: Staging, params: dict[str, Any], full: bool) -> None:
    """Delete the rows about to be recomputed."""
    alone = full and not s.count("SELECT COUNT(*) FROM (SELECT 1 FROM persons WHERE pipeline <> :p LIMIT 1) x",
                                 params)
    for table in ("profile_metrics", "profile_money", "profile_values", "profile_attributes"):
        if alone and not s.postgres:
            s.run(f"DELETE FROM {table}")  # noqa: S608 - SQLite truncates: no row-by-row delete
        elif full:
            s.run(f"DELETE FROM {table} WHERE pipeline = :p", params)  # noqa: S608
        else:
            named = f"name IN ({SET_NAMES_SQL}) AND " if table == "profile_values" else ""  # its key starts with name
            s.run(f"DELETE FROM {table} WHERE {named}person IN (SELECT person FROM _m_scope)")  # noqa: S608
