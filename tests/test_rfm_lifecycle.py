"""RFM scores and groups, lifecycle stages: worked out by hand, and SQL agreeing with Python."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.engine import Engine, make_url

from connector.segments.lifecycle import STAGES, LifecycleThresholds, lifecycle_stage
from connector.segments.rfm import GROUPS, group_case, rfm_group, score_from_rank

pytest_plugins = ["conftest_store"]


def test_scores_are_quintiles_of_the_rank() -> None:
    # Ten customers ranked 1..10: two per score.
    assert [score_from_rank(rank, 10) for rank in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Seven one-time buyers share rank 1 (ties take the lowest rank): all F = 1, not split between 1 and 2.
    assert score_from_rank(1, 10) == 1
    # The best of three customers scores 4, not 5: 1 + floor(5 * 2 / 3).
    assert [score_from_rank(rank, 3) for rank in (1, 2, 3)] == [1, 2, 4]
    with pytest.raises(ValueError, match="rank 0"):
        score_from_rank(0, 3)


@pytest.mark.parametrize(("r", "f", "m", "group"), [
    (5, 5, 5, "Champions"),          # bought recently, often, for a lot
    (5, 1, 1, "New customers"),      # one recent small order
    (4, 1, 1, "Promising"),
    (5, 2, 3, "Potential loyalist"),  # FM = (2 + 3 + 1) // 2 = 3
    (3, 4, 5, "Loyal"),
    (3, 3, 3, "Need attention"),
    (3, 1, 2, "About to sleep"),
    (2, 3, 4, "At risk"),             # used to buy a fair amount, long ago
    (1, 5, 5, "Cannot lose them"),    # big spender, gone quiet
    (2, 1, 2, "Hibernating"),
    (1, 1, 1, "Lost"),
])
def test_named_groups(r: int, f: int, m: int, group: str) -> None:
    assert rfm_group(r, f, m) == group


def test_every_score_combination_has_one_group_and_every_group_is_reachable() -> None:
    seen = {rfm_group(r, f, m) for r, f, m in itertools.product(range(1, 6), repeat=3)}
    assert seen == set(GROUPS) and len(GROUPS) == 11
    with pytest.raises(ValueError, match="frequency score 6"):
        rfm_group(3, 6, 1)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    url = make_url(store_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    yield engine
    engine.dispose()


def test_sql_case_agrees_with_python_on_all_125_combinations(engine: Engine) -> None:
    metadata = MetaData()
    scores = Table("rfm_case_check", metadata, Column("r", Integer), Column("f", Integer), Column("m", Integer))
    combos = list(itertools.product(range(1, 6), repeat=3))
    with engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn)
        conn.execute(insert(scores), [{"r": r, "f": f, "m": m} for r, f, m in combos])
        rows = conn.execute(select(scores.c.r, scores.c.f, scores.c.m,
                                   group_case(scores.c.r, scores.c.f, scores.c.m))).all()
        metadata.drop_all(conn)
    assert {(r, f, m): name for r, f, m, name in rows} == {combo: rfm_group(*combo) for combo in combos}


TODAY = date(2026, 1, 15)


@pytest.mark.parametrize(("first", "last", "stage"), [
    (None, None, "prospect"),
    (TODAY - timedelta(days=10), TODAY - timedelta(days=10), "new"),
    (TODAY - timedelta(days=29), TODAY - timedelta(days=2), "new"),
    (TODAY - timedelta(days=30), TODAY - timedelta(days=30), "active"),   # 30 days is no longer new
    (TODAY - timedelta(days=400), TODAY - timedelta(days=89), "active"),
    (TODAY - timedelta(days=400), TODAY - timedelta(days=90), "at_risk"),
    (TODAY - timedelta(days=400), TODAY - timedelta(days=180), "inactive"),  # no order for 6 months
    (TODAY - timedelta(days=400), TODAY - timedelta(days=364), "inactive"),
    (TODAY - timedelta(days=800), TODAY - timedelta(days=365), "lapsed"),    # 12 months
])
def test_lifecycle_stages(first: date | None, last: date | None, stage: str) -> None:
    assert lifecycle_stage(first, last, TODAY) == stage
    assert stage in STAGES


def test_lifecycle_thresholds_are_configurable_and_checked() -> None:
    short = LifecycleThresholds(new_days=7, at_risk_days=30, inactive_days=60, lapsed_days=120)
    last = TODAY - timedelta(days=45)
    assert lifecycle_stage(TODAY - timedelta(days=100), last, TODAY, short) == "at_risk"
    assert lifecycle_stage(TODAY - timedelta(days=100), last, TODAY) == "active"
    with pytest.raises(ValueError, match="at_risk_days < inactive_days < lapsed_days"):
        LifecycleThresholds(at_risk_days=200, inactive_days=180)
