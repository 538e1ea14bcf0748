"""RFM scores over a pipeline's buyers, from four boundary values per dimension instead of ranking everyone.

:func:`connector.segments.rfm.score_from_rank` gives a value ranked ``rank`` (ties sharing the
lowest) among ``n`` buyers the score ``1 + floor(5 (rank - 1) / n)``. With ``c = rank - 1`` the
number of values below it (``c <= n - 1``, so the floor is at most 4)::

    floor(5c / n) = #{s in 1..4 : 5c >= s n} = #{s : c >= k_s},   k_s = ceil(s n / 5)
    c >= k  <=>  the k-th smallest value is below v

so ``score(v) = 1 + #{s in 1..4 : x(k_s) < v}``, where ``x(k)`` is the k-th smallest value. The
twelve boundaries ``x(k_s)`` are read by walking the indexes of ``profile_metrics`` on
``orders_count``, ``total_spent`` and ``last_order_at``; the scores are then one pass over the rows,
with no sort and no window function: the same scores as ranking everyone, at a fraction of the cost,
which is what makes re-scoring the whole base after an incremental recompute affordable.

Recency compares UTC days: ``day(v) > day(b)`` is ``last_order_at >= midnight after day(b)``.
Persons without a counted order have ``total_spent = 0`` (no lower amount exists) and
``last_order_at`` NULL, which the boundary queries account for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, literal_column

from connector.segments.rfm import group_case
from connector.segments.staging import Staging

__all__ = ["update_rfm"]

_QUANTILES = (1, 2, 3, 4)


def _day(value: object) -> date:
    """A stored timestamp's UTC day (SQLite returns the stored UTC text, PostgreSQL a datetime)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return date.fromisoformat(str(value)[:10])


def _boundaries(s: Staging, params: dict[str, Any], buyers: int) -> dict[str, Any]:
    """The k-th smallest recency, frequency and monetary values, for k = ceil(s n / 5), s = 1..4."""
    others = s.count("SELECT COUNT(*) FROM profile_metrics WHERE pipeline = :p AND orders_count = 0", params)
    bounds: dict[str, Any] = {}
    for q in _QUANTILES:
        k = -(-q * buyers // 5)  # ceil
        value = {"k": k - 1, "z": others + k - 1, **params}
        last = s.run("SELECT last_order_at FROM profile_metrics WHERE pipeline = :p AND last_order_at IS NOT NULL "
                     "ORDER BY last_order_at LIMIT 1 OFFSET :k", value).scalar_one()
        bounds[f"r{q}"] = datetime.combine(_day(last) + timedelta(days=1), time(), tzinfo=UTC)
        bounds[f"f{q}"] = s.run("SELECT orders_count FROM profile_metrics WHERE pipeline = :p AND orders_count > 0 "
                                "ORDER BY orders_count LIMIT 1 OFFSET :k", value).scalar_one()
        # Everyone without an order has 0, the lowest amount: skip them by position.
        bounds[f"m{q}"] = s.run("SELECT total_spent FROM profile_metrics WHERE pipeline = :p "
                                "ORDER BY total_spent LIMIT 1 OFFSET :z", value).scalar_one()
    return bounds


def update_rfm(s: Staging, params: dict[str, Any]) -> tuple[int, int]:
    """Score every buyer of the pipeline; stage the rows whose scores change and update them.

    Returns:
        The number of buyers, and of rows updated.
    """
    buyers = s.count("SELECT COUNT(*) FROM profile_metrics WHERE pipeline = :p AND orders_count > 0", params)
    if not buyers:
        return 0, 0
    bounds = _boundaries(s, params, buyers)

    def score(column: str, letter: str, op: str) -> str:
        return "1 + " + " + ".join(f"CASE WHEN {column} {op} :{letter}{q} THEN 1 ELSE 0 END" for q in _QUANTILES)

    s.temp("_m_rfm", "person INTEGER PRIMARY KEY, r INTEGER NOT NULL, f INTEGER NOT NULL, m INTEGER NOT NULL, g TEXT")
    s.run(f"INSERT INTO _m_rfm (person, r, f, m) SELECT person, r, f, m FROM (SELECT person, rfm_recency, "  # noqa: S608
          f"rfm_frequency, rfm_monetary, {score('last_order_at', 'r', '>=')} AS r, "
          f"{score('orders_count', 'f', '>')} AS f, {score('total_spent', 'm', '>')} AS m "
          f"FROM profile_metrics WHERE pipeline = :p AND orders_count > 0) x "
          f"WHERE rfm_recency IS NULL OR rfm_recency <> r OR rfm_frequency <> f OR rfm_monetary <> m",
          {**params, **bounds})
    group = group_case(literal_column("r", Integer), literal_column("f", Integer), literal_column("m", Integer))
    compiled = group.compile(dialect=s.conn.dialect, compile_kwargs={"literal_binds": True})
    s.run(f"UPDATE _m_rfm SET g = {compiled}")  # noqa: S608
    updated = s.run("UPDATE profile_metrics SET rfm_recency = x.r, rfm_frequency = x.f, rfm_monetary = x.m, "
                    "rfm_group = x.g FROM _m_rfm x WHERE profile_metrics.person = x.person").rowcount
    _update_spend_percentile(s, {**params, "n": buyers})
    return buyers, updated


def _update_spend_percentile(s: Staging, params: dict[str, Any]) -> None:
    """``spend_percentile``: the per cent of buyers who spent strictly less, rounded down (0-99).

    Ranked over every buyer of the pipeline (one sort, staged into a table keyed by person; only
    the rows whose value changes are written), so "top 10 % by spend" is ``spend_percentile >= 90``.
    """
    s.temp("_m_sp", "person INTEGER PRIMARY KEY, sp INTEGER NOT NULL")
    s.run("INSERT INTO _m_sp (person, sp) SELECT person, sp FROM (SELECT person, spend_percentile AS old, "
          "(100 * (RANK() OVER (ORDER BY total_spent) - 1)) / :n AS sp "
          "FROM profile_metrics WHERE pipeline = :p AND orders_count > 0) x WHERE old IS NULL OR old <> sp", params)
    s.run("UPDATE profile_metrics SET spend_percentile = x.sp FROM _m_sp x WHERE profile_metrics.person = x.person")
