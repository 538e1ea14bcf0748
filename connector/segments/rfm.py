"""RFM: recency, frequency and monetary scores (1–5) and the standard named groups.

**Scores** are quintiles over the pipeline's customers who ordered at least once: for a value
ranked ``rank`` (1-based, ascending, ties sharing the lowest rank) among ``count`` customers,
``score = 1 + floor(5 * (rank - 1) / count)``. Ties share a score, so the many one-time buyers all
get F = 1 rather than being split arbitrarily between 1 and 2 as ``NTILE`` would. Recency ranks the
last order date ascending (the longest ago scores 1), frequency the number of orders, monetary the
total spent in the reporting currency.

**Groups** come from R and FM, the average of F and M rounded half up, through one 5 × 5 grid in
which every cell has exactly one group, so every customer gets one and each of the 11 standard
groups is reachable::

    FM →      1               2               3               4                 5
    R = 5     New customers   Potential l.    Potential l.    Champions         Champions
    R = 4     Promising       Potential l.    Loyal           Champions         Champions
    R = 3     About to sleep  About to sleep  Need attention  Loyal             Loyal
    R = 2     Hibernating     Hibernating     At risk         At risk           Cannot lose them
    R = 1     Lost            Lost            At risk         Cannot lose them  Cannot lose them

The same grid compiles to a SQL ``CASE`` (:func:`group_case`), so the store and the explain view
can never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, literal
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["GRID", "GROUPS", "fm_score", "group_case", "rfm_group", "score_from_rank"]

CHAMPIONS, LOYAL, POTENTIAL, NEW = "Champions", "Loyal", "Potential loyalist", "New customers"
PROMISING, ATTENTION, SLEEP, AT_RISK = "Promising", "Need attention", "About to sleep", "At risk"
CANNOT_LOSE, HIBERNATING, LOST = "Cannot lose them", "Hibernating", "Lost"

GROUPS: tuple[str, ...] = (CHAMPIONS, LOYAL, POTENTIAL, NEW, PROMISING, ATTENTION, SLEEP, AT_RISK, CANNOT_LOSE,
                           HIBERNATING, LOST)

# GRID[r][fm], both 1..5 (index 0 unused).
GRID: dict[int, dict[int, str]] = {
    5: {1: NEW, 2: POTENTIAL, 3: POTENTIAL, 4: CHAMPIONS, 5: CHAMPIONS},
    4: {1: PROMISING, 2: POTENTIAL, 3: LOYAL, 4: CHAMPIONS, 5: CHAMPIONS},
    3: {1: SLEEP, 2: SLEEP, 3: ATTENTION, 4: LOYAL, 5: LOYAL},
    2: {1: HIBERNATING, 2: HIBERNATING, 3: AT_RISK, 4: AT_RISK, 5: CANNOT_LOSE},
    1: {1: LOST, 2: LOST, 3: AT_RISK, 4: CANNOT_LOSE, 5: CANNOT_LOSE},
}


def score_from_rank(rank: int, count: int) -> int:
    """The 1–5 score of the value ranked ``rank`` (1-based, ties sharing the lowest) among ``count``.

    Raises:
        ValueError: ``rank`` is not within 1..count.
    """
    if not 1 <= rank <= count:
        raise ValueError(f"rank {rank} is not within 1..{count}")
    return 1 + (5 * (rank - 1)) // count


def fm_score(frequency: int, monetary: int) -> int:
    """The average of F and M, rounded half up (so 4 and 5 give 5, 3 and 4 give 4)."""
    return (frequency + monetary + 1) // 2


def rfm_group(recency: int, frequency: int, monetary: int) -> str:
    """The named group of scores R, F and M (each 1–5).

    Raises:
        ValueError: a score outside 1–5.
    """
    for name, score in (("recency", recency), ("frequency", frequency), ("monetary", monetary)):
        if not 1 <= score <= 5:
            raise ValueError(f"{name} score {score} is not within 1..5")
    return GRID[recency][fm_score(frequency, monetary)]


def group_case(recency: ColumnElement[Any], frequency: ColumnElement[Any],
               monetary: ColumnElement[Any]) -> ColumnElement[str]:
    """:func:`rfm_group` as a SQL ``CASE`` over three score columns (NULL when a score is NULL)."""
    fm = (frequency + monetary + 1) // 2  # floor division, the same in SQLite and PostgreSQL
    whens = [(and_(recency == r, fm == f), literal(name)) for r, row in GRID.items() for f, name in row.items()]
    return case(*whens, else_=None)
