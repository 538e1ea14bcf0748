"""Rules compiled against the store's computed profiles: the catalog's fields map to real columns."""

from __future__ import annotations

import pytest
from test_metrics import PIPELINE, TODAY, compute, store, ten_people  # noqa: F401 - the store fixture

from connector.segments import parse_rule
from connector.segments.columns import person_selection
from connector.segments.library import builtin_segments
from connector.segments.why import explain_person
from connector.store import Store

pytest_plugins = ["conftest_store"]


def selected(store: Store, text: str) -> set[str]:  # noqa: F811 - `store` is the fixture's value here
    with store.engine.connect() as conn:
        ids = set(conn.execute(person_selection(PIPELINE, parse_rule(text), TODAY)).scalars())
    names = {}
    for n in range(11):
        person = store.find_person_id(PIPELINE, f"p{n:02d}@example.com")
        names[person] = f"p{n:02d}"
    return {names[i] for i in ids}


@pytest.mark.parametrize(("text", "expected"), [
    # 2023-06-01 to 2024-04-08 is 312 days (29 + 184 + 91 + 8); 2023-01-01 is 463; 2023-09-01 is 220.
    ("days_since_last_order > 300", {"p01", "p02", "p03"}),
    ("days_since_last_order == 220", {"p04"}),
    ('rfm_group == "Champions"', {"p07", "p08", "p09", "p10"}),
    ('rfm_score == "555"', {"p10"}),
    ("orders_count >= 5 and total_spent >= 80", {"p08", "p09", "p10"}),
    ("is_empty(last_order_date)", {"p00"}),
    ('last_order_date >= date("2024-03-01")', {"p08", "p09", "p10"}),
    ('lifecycle == "prospect"', {"p00"}),
    ("has_open_cart", set()),
    ("not has_open_cart", {f"p{n:02d}" for n in range(11)}),
    ('"web" in channels and orders_count == 1', {"p01", "p02"}),
])
def test_rules_select_computed_profiles(store: Store, text: str, expected: set[str]) -> None:  # noqa: F811
    ten_people(store)
    compute(store)
    assert selected(store, text) == expected


def test_every_default_builtin_compiles_against_the_store(store: Store) -> None:  # noqa: F811
    ten_people(store)
    compute(store)
    segments = {s.name: s for s in builtin_segments()}
    with store.engine.connect() as conn:
        for segment in segments.values():
            conn.execute(person_selection(PIPELINE, segment.rule, TODAY)).all()
    with store.engine.connect() as conn:
        loyal = set(conn.execute(person_selection(PIPELINE, segments["loyal"].rule, TODAY)).scalars())
    assert len(loyal) == 6  # p05..p10 have 3 orders or more


RULES = [
    "days_since_last_order > 300", 'rfm_group == "Champions"', 'rfm_score == "555"',
    "orders_count >= 5 and total_spent >= 80", "is_empty(last_order_date)", 'lifecycle in ["active", "new"]',
    '"web" in channels and orders_count == 1', "not has_open_cart", "purchase_frequency < 40",
]


def test_explain_agrees_with_sql_for_every_person_and_rule(store: Store) -> None:  # noqa: F811
    ten_people(store)
    compute(store)
    segments = [(text, parse_rule(text)) for text in RULES] + [(s.name, s.rule) for s in builtin_segments()]
    with store.engine.connect() as conn:
        in_sql = {name: set(conn.execute(person_selection(PIPELINE, rule, TODAY)).scalars())
                  for name, rule in segments}
    for n in range(11):
        person_id = store.find_person_id(PIPELINE, f"p{n:02d}@example.com")
        profile = store.get_profile(PIPELINE, person_id or "")
        assert profile is not None
        for reason in explain_person(profile, segments, TODAY):
            assert reason.member == (person_id in in_sql[reason.segment]), (n, reason.segment)


def test_explain_shows_each_condition_with_the_value_it_saw(store: Store) -> None:  # noqa: F811
    ten_people(store)
    compute(store)
    profile = store.get_profile(PIPELINE, store.find_person_id(PIPELINE, "p04@example.com") or "")
    assert profile is not None
    (reason,) = explain_person(profile, {"lapsing": parse_rule("orders_count >= 2 and days_since_last_order > 250")},
                               TODAY)
    # p04: 2 orders, the last on 2023-09-01, 220 days before 2024-04-08.
    assert reason.member is False and reason.rule == "orders_count >= 2 and days_since_last_order > 250"
    assert [(step.fragment, step.value, step.result) for step in reason.steps] == [
        ("orders_count >= 2", 2, True), ("days_since_last_order > 250", 220, False)]
