"""The segment rule language: parsing, type checks, error messages, SQL, and the Python evaluator.

Expected segments are worked out by hand from the six people below (``TODAY`` is 2026-01-15,
so ``this_month`` is 1 and ``days_ago(90)`` is 2025-10-17).
"""

from __future__ import annotations

import builtins
import string
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Engine,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

import connector.segments as segments
from connector.errors import ConfigError
from connector.segments import (
    Catalog,
    ExplainStep,
    Field,
    FieldType,
    ProfileColumns,
    Rule,
    RuleError,
    compile_rule,
    default_catalog,
    evaluate_rule,
    explain_values,
    parse_rule,
    referenced_fields,
)
from connector.segments.nodes import And, Or
from connector.store.coltypes import MoneyType, UtcDateTime
from connector.store.engine import create_store_engine

pytest_plugins = ["conftest_store"]  # store_url: SQLite, and PostgreSQL when configured

TODAY = date(2026, 1, 15)
CATALOG = default_catalog().with_attributes(
    {
        "loyalty_tier": "text",
        "points": "integer",
        "member_since": "date",
        "newsletter_vip": "bool",
        "interests": "set",
    }
)

# ------------------------------------------------------------------ the caller's tables

metadata = MetaData()
profiles = Table(
    "seg_profiles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", Text, nullable=False),
    Column("country", Text),
    Column("city", Text),
    Column("phone", Text),
    Column("company", Text),
    Column("consent", Text),
    Column("lifecycle", Text),
    Column("rfm_group", Text),
    Column("total_spent", MoneyType),  # exact ten-thousandths
    Column("orders_count", Integer),
    Column("days_since_last_order", Integer),
    Column("birthday_month", Integer),
    Column("is_b2b", Boolean),
    Column("last_order_date", UtcDateTime),  # a date field held as a UTC timestamp
    Column("signup_date", Date),
)
set_values = Table(
    "seg_values",
    metadata,
    Column("profile_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=False),
)
attribute_values = Table(
    "seg_attributes",
    metadata,
    Column("profile_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("value_text", Text),
    Column("value_number", MoneyType),
    Column("value_date", Date),
)
SCALARS = [c.name for c in profiles.c if c.name not in ("id",)]
SETS = ["categories"]
ATTRIBUTE_COLUMN = {"text": "value_text", "integer": "value_number", "bool": "value_number", "date": "value_date"}
COLUMNS = ProfileColumns(
    profile_id=profiles.c.id,
    scalars={name: profiles.c[name] for name in SCALARS},
    values=set_values,
    attributes=attribute_values,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


PEOPLE: list[dict[str, Any]] = [
    {
        "first_name": "ada", "country": "FR", "city": "Paris", "phone": "+33 6 00 00 00 01", "company": "Ada SAS",
        "consent": "subscribed", "lifecycle": "active", "rfm_group": "Champions", "total_spent": Decimal("500.00"),
        "orders_count": 3, "days_since_last_order": 10, "birthday_month": 1, "is_b2b": True,
        "last_order_date": utc(2026, 1, 5, 10), "signup_date": date(2024, 1, 1),
        "categories": {"T-shirt", "Mug"},
        "attributes.loyalty_tier": "gold", "attributes.points": 120, "attributes.newsletter_vip": True,
    },
    {
        "first_name": "bob", "country": "BE", "city": "PARIS", "phone": None, "company": "",
        "consent": "subscribed", "lifecycle": "at_risk", "rfm_group": "At risk", "total_spent": Decimal("499.9999"),
        "orders_count": 5, "days_since_last_order": 200, "birthday_month": 2, "is_b2b": False,
        "last_order_date": utc(2025, 7, 1), "signup_date": date(2023, 12, 31),
        "categories": {"T-shirts"},
        "attributes.loyalty_tier": "silver", "attributes.newsletter_vip": False,
    },
    {
        "first_name": "chloe", "country": None, "city": None, "phone": "", "company": None,
        "consent": "unsubscribed", "lifecycle": "inactive", "rfm_group": "Lost", "total_spent": Decimal("1200"),
        "orders_count": 2, "days_since_last_order": 181, "birthday_month": 1, "is_b2b": None,
        "last_order_date": utc(2025, 7, 18), "signup_date": date(2024, 6, 30),
        "categories": {"t-shirt"},
    },
    {
        "first_name": "dan", "country": "DE", "city": "Berlin", "phone": "+49 30 000000", "company": None,
        "consent": "pending", "lifecycle": "prospect", "rfm_group": None, "total_spent": Decimal("0"),
        "orders_count": 0, "days_since_last_order": None, "birthday_month": None, "is_b2b": False,
        "last_order_date": None, "signup_date": date(2025, 12, 1),
        "categories": set(),
        "attributes.loyalty_tier": "",
    },
    {
        "first_name": "eve", "country": "FR", "city": "paris", "phone": "+33 6 00 00 00 05", "company": "Eve Ltd",
        "consent": "subscribed", "lifecycle": "inactive", "rfm_group": "Champions", "total_spent": Decimal("500.0001"),
        "orders_count": 3, "days_since_last_order": 180, "birthday_month": 12, "is_b2b": True,
        "last_order_date": utc(2025, 10, 17, 23, 59, 59), "signup_date": date(2024, 1, 1),
        "categories": {"T-shirt"},
        "attributes.loyalty_tier": "GOLD", "attributes.points": 80, "attributes.interests": {"yoga", "running"},
    },
    {
        "first_name": "fay", "country": "BE", "city": "Brussels", "phone": None, "company": None,
        "consent": "not_subscribed", "lifecycle": "lapsed", "rfm_group": "Hibernating", "total_spent": Decimal("100"),
        "orders_count": 1, "days_since_last_order": 400, "birthday_month": None, "is_b2b": False,
        "last_order_date": utc(2024, 12, 1), "signup_date": date(2023, 5, 5),
        "categories": {"Mug"},
        "attributes.loyalty_tier": "gold", "attributes.member_since": date(2024, 3, 1),
    },
]


def store_people(engine: Engine, people: list[dict[str, Any]]) -> None:
    """Replace the tables' contents with ``people`` (ids 1..n)."""
    profile_rows, set_rows, attribute_rows = [], [], []
    for number, person in enumerate(people, start=1):
        profile_rows.append({"id": number, **{name: person.get(name) for name in SCALARS}})
        for name in SETS:
            set_rows += [{"profile_id": number, "name": name, "value": v} for v in sorted(person.get(name) or ())]
        for key, value in person.items():
            if not key.startswith("attributes.") or value is None:
                continue
            field = CATALOG[key]
            if field.type is FieldType.SET:
                attribute_rows += [{"profile_id": number, "name": field.attribute_name, "value_text": v,
                                    "value_number": None, "value_date": None} for v in sorted(value)]
                continue
            row = {"profile_id": number, "name": field.attribute_name, "value_text": None,
                   "value_number": None, "value_date": None}
            row[ATTRIBUTE_COLUMN[field.type]] = Decimal(int(value)) if field.type is FieldType.BOOL else value
            attribute_rows.append(row)
    with engine.begin() as conn:
        for table in (profiles, set_values, attribute_values):
            conn.execute(delete(table))
        conn.execute(insert(profiles), profile_rows)
        if set_rows:
            conn.execute(insert(set_values), set_rows)
        if attribute_rows:
            conn.execute(insert(attribute_values), attribute_rows)


def selected(engine: Engine, rule: Rule, today: date = TODAY) -> set[int]:
    """The ids of the profiles the compiled rule selects."""
    query = select(profiles.c.id).where(compile_rule(rule, COLUMNS, today=today))
    with engine.connect() as conn:
        return set(conn.scalars(query))


def names(ids: set[int]) -> set[str]:
    return {PEOPLE[i - 1]["first_name"] for i in ids}


@pytest.fixture
def people_db(store_url: str) -> Iterator[Engine]:
    """The six people in a fresh store database (SQLite, and PostgreSQL when configured)."""
    engine = create_store_engine(store_url)
    metadata.create_all(engine)
    store_people(engine, PEOPLE)
    yield engine
    engine.dispose()


# ------------------------------------------------------------------ the examples marketers write

EXAMPLES = [
    # ada and eve qualify; bob spent 499.9999 (not 500), chloe has 2 orders, dan and fay spent too little.
    ('total_spent >= 500 and orders_count >= 3 and country in ["FR", "BE"]', {"ada", "eve"}),
    # dan never ordered (NULL): not selected; eve's 180 is not > 180.
    ("days_since_last_order > 180", {"bob", "chloe", "fay"}),
    # exact, case-sensitive: bob's "T-shirts" and chloe's "t-shirt" are other values.
    ('"T-shirt" in categories', {"ada", "eve"}),
    ("birthday_month == this_month", {"ada", "chloe"}),
    # NULL or empty text.
    ("is_empty(phone)", {"bob", "chloe", "fay"}),
    # bob's company is '' (empty); eve's tier is "GOLD", not "gold"; dan's tier is ''.
    ('not is_empty(company) or attributes.loyalty_tier == "gold"', {"ada", "eve", "fay"}),
    ('lifecycle in ["at_risk", "inactive"] and consent == "subscribed"', {"bob", "eve"}),
    # days_ago(90) is 2025-10-17; eve's last order is late that very day, so not before it.
    ("last_order_date < days_ago(90)", {"bob", "chloe", "fay"}),
    ('signup_date >= date("2024-01-01")', {"ada", "chloe", "dan", "eve"}),
    ('rfm_group == "Champions"', {"ada", "eve"}),
    # both ends included: ada's 500 and fay's 100 are in, eve's 500.0001 is out.
    ("total_spent between 100 and 500", {"ada", "bob", "fay"}),
]

MORE = [
    # money is exact: 499.9999 is below 500, 500.0001 above.
    ("total_spent >= 500", {"ada", "chloe", "eve"}),
    ("total_spent > 499.9999", {"ada", "chloe", "eve"}),
    ("total_spent == 499.9999", {"bob"}),
    ("total_spent != 500", {"bob", "chloe", "dan", "eve", "fay"}),
    ("100 <= total_spent < 500", {"bob", "fay"}),
    ("total_spent not between 100 and 500", {"chloe", "dan", "eve"}),
    # an empty field makes a comparison false, != and not in included; `not` then makes it true.
    ('country != "FR"', {"bob", "dan", "fay"}),
    ('not (country == "FR")', {"bob", "chloe", "dan", "fay"}),
    ('country not in ["FR"]', {"bob", "dan", "fay"}),
    ('not (country in ["FR"])', {"bob", "chloe", "dan", "fay"}),
    ("not (days_since_last_order > 180)", {"ada", "dan", "eve"}),
    ('company != "Acme"', {"ada", "eve"}),  # bob's '' counts as empty
    ("has(company)", {"ada", "eve"}),
    # yes/no: chloe's is empty.
    ("is_b2b", {"ada", "eve"}),
    ("not is_b2b", {"bob", "chloe", "dan", "fay"}),
    ("is_b2b == False", {"bob", "dan", "fay"}),
    ("is_b2b != True", {"bob", "dan", "fay"}),
    ('lower(city) == "paris"', {"ada", "bob", "eve"}),
    ('lower(city) not in ["paris", "berlin"]', {"fay"}),
    ('"T-shirt" not in categories', {"bob", "chloe", "dan", "fay"}),
    ("is_empty(categories)", {"dan"}),
    ("has(categories)", {"ada", "bob", "chloe", "eve", "fay"}),
    # a date held as a timestamp is compared by its (UTC) day.
    ('last_order_date == date("2025-10-17")', {"eve"}),
    ("last_order_date <= days_ago(90)", {"bob", "chloe", "eve", "fay"}),
    ("last_order_date > days_ago(90)", {"ada"}),
    ('last_order_date != date("2025-10-17")', {"ada", "bob", "chloe", "fay"}),
    ('last_order_date in [date("2025-07-01"), date("2026-01-05")]', {"ada", "bob"}),
    ('last_order_date not in [date("2025-07-01"), date("2026-01-05")]', {"chloe", "eve", "fay"}),
    ('last_order_date between date("2025-07-01") and date("2025-10-17")', {"bob", "chloe", "eve"}),
    ("last_order_date >= today", set()),
    ("is_empty(last_order_date)", {"dan"}),
    ("signup_date between days_ago(60) and today", {"dan"}),
    # custom attributes of every type.
    ('attributes.loyalty_tier != "gold"', {"bob", "eve"}),
    ("is_empty(attributes.loyalty_tier)", {"chloe", "dan"}),
    ("attributes.points >= 100", {"ada"}),
    ("attributes.points < 100", {"eve"}),
    ('attributes.member_since < date("2025-01-01")', {"fay"}),
    ("attributes.newsletter_vip", {"ada"}),
    ("attributes.newsletter_vip == False", {"bob"}),
    ('"yoga" in attributes.interests', {"eve"}),
    ("is_empty(attributes.interests)", {"ada", "bob", "chloe", "dan", "fay"}),
    # prefixes (postal-code areas and the like): case as written, unless lower() is used; empty never matches
    ('starts_with(city, "Par")', {"ada"}),
    ('starts_with(lower(city), "par")', {"ada", "bob", "eve"}),
    ('starts_with(city, "B")', {"dan", "fay"}),
    ('not starts_with(city, "B")', {"ada", "bob", "chloe", "eve"}),
    ('starts_with(city, "Paris, France")', set()),
    # precedence and grouping
    ('country == "FR" or country == "BE" and total_spent > 400', {"ada", "bob", "eve"}),
    ('(country == "FR" or country == "BE") and total_spent > 400', {"ada", "bob", "eve"}),
    ('(country == "FR" or country == "BE") and total_spent >= 500', {"ada", "eve"}),
    ('not not (country == "FR")', {"ada", "eve"}),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES + MORE, ids=[t for t, _ in EXAMPLES + MORE])
def test_rule_selects_the_hand_picked_people(people_db: Engine, text: str, expected: set[str]) -> None:
    rule = parse_rule(text, CATALOG, segment="example")
    assert names(selected(people_db, rule)) == expected
    # The Python evaluator (explain) agrees on the same people.
    assert {p["first_name"] for p in PEOPLE if evaluate_rule(rule, p, today=TODAY)} == expected


def test_a_rule_may_span_lines_as_in_a_toml_multiline_string(people_db: Engine) -> None:
    text = """
        total_spent >= 500
        and (country == "FR"
             or country == "BE")\r\n
    """
    assert names(selected(people_db, parse_rule(text, CATALOG))) == {"ada", "eve"}


def test_relative_dates_use_the_injected_day_never_the_clock(people_db: Engine) -> None:
    rule = parse_rule("birthday_month == this_month and last_order_date > days_ago(30)", CATALOG)
    assert names(selected(people_db, rule, today=date(2026, 1, 15))) == {"ada"}
    assert names(selected(people_db, rule, today=date(2026, 3, 1))) == set()  # March: nobody's birthday month
    eve_birthday = parse_rule("birthday_month == this_month", CATALOG)
    assert names(selected(people_db, eve_birthday, today=date(2025, 12, 31))) == {"eve"}


# ------------------------------------------------------------------ parsing results


def test_canonical_text_and_flipped_comparisons() -> None:
    assert str(parse_rule("500 <= total_spent")) == "total_spent >= 500"
    assert str(parse_rule("1 < orders_count <= 3")) == "orders_count > 1 and orders_count <= 3"
    assert str(parse_rule("5 > orders_count >= 1")) == "orders_count < 5 and orders_count >= 1"
    assert str(parse_rule('country in ("FR", "BE")')) == 'country in ["FR", "BE"]'
    assert str(parse_rule("total_spent >= 12.5")) == "total_spent >= 12.5"
    assert str(parse_rule("orders_count >= 3.0")) == "orders_count >= 3"  # a whole number after all
    assert str(parse_rule("orders_count > -1")) == "orders_count > -1"
    negated = 'not (is_empty(phone) or "Mug" in categories)'
    assert str(parse_rule(negated)) == negated
    assert str(parse_rule("x between 1 and 2", Catalog([Field("x", "integer")]))) == "x between 1 and 2"


def test_between_binds_tighter_than_and_and_or() -> None:
    rule = parse_rule('total_spent between 100 and 500 and country == "FR" or is_b2b')
    assert isinstance(rule.condition, Or) and isinstance(rule.condition.operands[0], And)
    assert str(rule) == 'total_spent between 100 and 500 and country == "FR" or is_b2b'
    assert str(parse_rule("not total_spent between 1 and 2")) == "not (total_spent between 1 and 2)"
    # `attributes.between` is a name, not the operator.
    catalog = default_catalog().with_attributes({"between": "integer"})
    assert str(parse_rule("attributes.between between 1 and 2", catalog)) == "attributes.between between 1 and 2"


def test_number_literals_become_decimals_and_compare_exactly() -> None:
    rule = parse_rule("total_spent > 0.1")
    assert rule.condition.value.value == Decimal("0.1")  # type: ignore[union-attr]
    assert isinstance(parse_rule("total_spent > 5").condition.value.value, Decimal)  # type: ignore[union-attr]
    assert parse_rule("orders_count > 5").condition.value.value == 5  # type: ignore[union-attr]


def test_referenced_fields() -> None:
    rule = parse_rule('not is_empty(company) or attributes.loyalty_tier == "gold" and "Mug" in categories', CATALOG)
    assert referenced_fields(rule) == {"company", "attributes.loyalty_tier", "categories"}
    assert referenced_fields(parse_rule("1 <= orders_count <= 3")) == {"orders_count"}


def test_explain_values_lists_each_condition_with_the_persons_value() -> None:
    rule = parse_rule('total_spent >= 500 and (country in ["FR", "BE"] or "Mug" in categories)', CATALOG)
    bob = PEOPLE[1]
    assert explain_values(rule, bob, today=TODAY) == [
        ExplainStep("total_spent >= 500", Decimal("499.9999"), False),
        ExplainStep('country in ["FR", "BE"]', "BE", True),
        ExplainStep('"Mug" in categories', frozenset({"T-shirts"}), False),
    ]
    assert evaluate_rule(rule, bob, today=TODAY) is False
    steps = explain_values(parse_rule("is_empty(phone) and last_order_date < days_ago(90)"), PEOPLE[2], today=TODAY)
    assert steps == [("is_empty(phone)", None, True), ("last_order_date < days_ago(90)", date(2025, 7, 18), True)]


# ------------------------------------------------------------------ error messages


def error(text: str, catalog: Catalog = CATALOG, segment: str | None = "vip") -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rule(text, catalog, segment=segment)
    return caught.value


def test_the_message_names_segment_column_fragment_and_what_was_expected() -> None:
    err = error('total_spent >= "a lot"')
    assert str(err) == (
        "segment 'vip', column 1: total_spent >= \"a lot\": total_spent is a number, "
        'compared with text "a lot" (expected a number, e.g. 500)'
    )
    assert (err.segment, err.offset, err.fragment) == ("vip", 0, 'total_spent >= "a lot"')
    assert err.expected == "a number, e.g. 500"
    assert isinstance(err, ConfigError)


def test_the_column_points_at_the_offending_part() -> None:
    err = error('country == "FR" and orders_count > "3"')
    assert err.offset == 20
    assert err.fragment == 'orders_count > "3"'
    assert str(err).startswith("segment 'vip', column 21: orders_count > \"3\":")
    # On the second line of a multi-line rule, and after non-ASCII text (the ast counts bytes).
    err = error('city == "Zürich"\n  and total_spend > 5')
    assert err.offset == 23 and err.fragment == "total_spend"
    assert str(error('phone == 5', segment=None)).startswith("rule, column 1: ")


REJECTED = [
    # (rule, what the message must say)
    ('starts_with(total_spent, "5")', ["starts_with takes a text field first", "total_spent is a number"]),
    ('starts_with(city, "")', ["the prefix of starts_with must be non-empty text"]),
    ("starts_with(city, 75)", ["the prefix of starts_with must be non-empty text", 'starts_with(postal_code, "75")']),
    ('starts_with(city)', ["starts_with takes a text field and a text prefix"]),
    ('starts_with(lower(city), "Par")', ["lower(...) is compared with lower-case text"]),
    ('total_spent == starts_with(city, "P")', ["starts_with(...) is a condition, not a value"]),
    ('"x" in total_spent', ["total_spent is a number, not a set of values"]),
    ("is_empty(is_b2b)", ["is_b2b is a yes/no field; it is never empty", "not is_b2b"]),
    ('consent == "subscribd"', ['"subscribd" is not a value of consent', 'did you mean "subscribed"']),
    ('rfm_group == "champions"', ['did you mean "Champions"']),
    ('lifecycle in ["active", "sleeping"]', ['"sleeping" is not a value of lifecycle', '"at_risk"']),
    ("total_spend > 5", ["unknown field total_spend", "did you mean total_spent?"]),
    ("loyalty_tier == 'gold'", ["unknown field loyalty_tier", "did you mean attributes.loyalty_tier?"]),
    ('attributes.loyalty == "gold"', ["unknown custom attribute attributes.loyalty", "attributes.loyalty_tier"]),
    ("is_emtpy(phone)", ["unknown function is_emtpy", "did you mean is_empty?"]),
    ("orders_count > 2.5", ["orders_count is a whole number, compared with the number 2.5", "a whole number"]),
    ("total_spent > 1.00001", ["more than 4 decimal places"]),
    ("total_spent > 1e15", ["too large"]),
    ('last_order_date < "2024-01-01"', ["last_order_date is a date, compared with text", 'date("2024-01-01")']),
    ("birthday_month == today", ["birthday_month is a whole number, compared with today (a date)"]),
    ("days_since_last_order > days_ago(5)", ["is a whole number, compared with days_ago(5) (a date)"]),
    ('city > "M"', ["city is text; it cannot be ordered with >", "=="]),
    ("is_b2b > False", ["cannot be ordered"]),
    ('categories == "Mug"', ["categories is a set of values", '"T-shirt" in categories']),
    ('categories in ["Mug"]', ["cannot be tested against a list", "one value at a time"]),
    ('"" in categories', ["non-empty text"]),
    ("orders_count in categories", ["tested here with a field"]),
    ('country == ""', ["empty text is not a value", "is_empty(country)"]),
    ("country in []", ["the list is empty"]),
    ('country in ["FR", city]', ["a list holds values only"]),
    ('lower(city) == "Paris"', ["which has capitals, so it never matches", '"paris"']),
    ("lower(total_spent) == 'a'", ["lower() takes a text field; total_spent is a number"]),
    ("total_spent", ["total_spent is a number, not a condition", "total_spent >= 500"]),
    ("total_spent == orders_count", ["compares two fields"]),
    ("1 < 2", ["compares two values; one side must be a field"]),
    ("1 < orders_count > 0", ["chained comparisons are only allowed with < and <=, or with > and >="]),
    ("orders_count == 1 == 1", ["chained comparisons"]),
    ("phone == None", ["None is not a value", "is_empty(field)"]),
    ("phone is None", ["'is' and 'is not' are not allowed"]),
    ("phone == null", ["null is not a value"]),
    ("is_b2b == true", ["unknown name true", "True, with a capital letter"]),
    ("True", ["True alone is not a condition"]),
    ("has(phone) == True", ["has(...) is a condition, not a value"]),
    ("days_ago(90)", ["days_ago(...) is a value, not a condition", "last_order_date < days_ago(90)"]),
    ("last_order_date < days_ago(-1)", ["days_ago takes a whole number of days from 0 to 36500"]),
    ("last_order_date < days_ago(1.5)", ["days_ago takes a whole number of days"]),
    ('signup_date > date("2024-02-30")', ["2024-02-30 is not a date of the calendar"]),
    ('signup_date > date("01/02/2024")', ["date takes text of the form YYYY-MM-DD"]),
    ('signup_date > date("1066-10-14")', ["too far in the past or future"]),
    ("total_spent between 500 and 100", ["the low end is above the high end", "total_spent between 100 and 500"]),
    ("total_spent between 100", ["between needs both ends"]),
    ("(total_spent between 1 and 5) == True", ["between ... and ... is a condition and cannot be used here"]),
    ("is_empty(phone, email)", ["is_empty takes exactly one argument, not 2"]),
    ("is_empty(lower(city))", ["is_empty takes a field"]),
    ("is_empty", ["is_empty is a function", "is_empty(phone)"]),
    ("attributes", ["attributes needs the name of a custom attribute"]),
    ("between", ["between needs both ends"]),
    ("is_b2b and \uff42etween", ["between goes after a field"]),  # NFKC makes it `between`, unrewritten
    ("is_b2b, is_staff", ["conditions separated by commas are not allowed", "and / or"]),
    # outside the grammar: what, and what instead
    ('__import__("os").system("ls")',
     ["only the rule functions can be called", "is_empty, has, starts_with, days_ago, date"]),
    ("__builtins__", ["names starting with __ are not allowed"]),
    ("().__class__", ["attribute access (.__class__) is not allowed", "attributes.<name>"]),
    ("attributes.__class__", ["attribute access (.__class__) is not allowed"]),
    ("phone.startswith('+33')", ["only the rule functions can be called"]),
    ("categories[0] == 'Mug'", ["subscripts ([...]) are not allowed"]),
    ("(lambda: 1)()", ["only the rule functions can be called"]),
    ("lambda: is_b2b", ["lambda functions are not allowed"]),
    ('[c for c in categories] == ["Mug"]', ["comprehensions are not allowed"]),
    ("any(c for c in categories)", ["unknown function any"]),
    ("is_empty(c for c in categories)", ["comprehensions are not allowed"]),
    ('f"{phone}" == "x"', ["f-strings are not allowed"]),
    ('b"x" == phone', ["byte strings are not allowed"]),
    ('"""x""" == phone', ["triple-quoted text is not allowed"]),
    ("total_spent ** 2 > 4", ["arithmetic (**) is not allowed"]),
    ("total_spent + 1 > 4", ["arithmetic (+) is not allowed"]),
    ("total_spent % 2 == 0", ["arithmetic (%) is not allowed"]),
    ("total_spent // 2 == 0", ["arithmetic (//) is not allowed"]),
    ("total_spent @ 2 == 0", ["arithmetic (@) is not allowed"]),
    ("-is_b2b", ["'-' is only allowed before a number"]),
    ("~is_b2b", ["'~' is not allowed", "the word not"]),
    ("is_b2b if True else is_staff", ["if ... else is not allowed"]),
    ("(x := 5)", ["assignments (:=) are not allowed"]),
    ('{"a": 1}', ["dictionaries ({...}) are not allowed"]),
    ('{"FR"}', ["sets ({...}) are not allowed"]),
    ('country in {"FR"}', ["sets ({...}) are not allowed"]),
    ("days_ago(days=90) > last_order_date", ["keyword arguments (name=...) are not allowed"]),
    ("is_empty(*phone)", ["starred arguments (*) are not allowed"]),
    ("await is_b2b", ["await is not allowed"]),
    ("(yield)", ["yield is not allowed"]),
    ("total_spent >= 1j", ["complex values are not allowed"]),
    ("total_spent >= ...", ["ellipsis values are not allowed"]),
    # what people coming from SQL or spreadsheets type
    ('country = "FR"', ["'=' is not allowed", "== to compare"]),
    ('country <> "FR"', ["'<>' is not allowed", "!="]),
    ("is_b2b && is_staff", ["'&' is not allowed", "the word and"]),
    ("is_b2b || is_staff", ["'|' is not allowed", "the word or"]),
    ("!is_b2b", ["'!' is not allowed", "not to negate"]),
    ("is_b2b AND is_staff", ["'AND' is not allowed", "and in lower case"]),
    ("is_b2b # the B2B people", ["comments (#) are not allowed"]),
    ('country == "FR', ["no closing quote"]),
    ("(is_b2b or is_staff", ["never closed"]),
    ("is_b2b) or (is_staff", ["closes nothing that was opened"]),
    ("is_b2b and", ["not a valid rule"]),
    ("is_b2b $ is_staff", ["the character '$' is not allowed"]),
    ("", ["the rule is empty"]),
    ("   \n ", ["the rule is empty"]),
    ("is_b2b and " * 200 + "is_b2b", ["characters long; the limit is 2000"]),
    ("not " * 40 + "is_b2b", ["nested more than 32 levels deep"]),
    ("(" * 250 + "is_b2b" + ")" * 250, ["not a valid rule (too many nested parentheses)"]),
    ("is_b2b or (is_staff and (" * 20 + "is_b2b" + "))" * 20, ["nested more than 32 levels deep"]),
    ('country == "FR\x00"', ["invalid character"]),
    ("orders_count in [" + "1," * 500 + "1]", ["the list has 501 values; the limit is 500"]),
]


@pytest.mark.parametrize(("text", "needles"), REJECTED, ids=[t[:40] for t, _ in REJECTED])
def test_rejected_with_a_clear_message(text: str, needles: list[str]) -> None:
    err = error(text)
    message = str(err)
    assert message.startswith("segment 'vip'")
    for needle in needles:
        assert needle in message, message
    assert "(expected " in message, message
    if err.offset is not None:
        assert 0 <= err.offset <= len(text)
        assert f"column {err.offset + 1}:" in message


def test_email_addresses_in_messages_are_masked() -> None:
    err = error('email == "jane.doe@example.com" and total_spent > "x"')
    assert "jane.doe@example.com" not in str(err)
    err = error('email > "jane.doe@example.com"')
    assert "jane.doe@example.com" not in str(err) and "j***@example.com" in str(err)


def test_a_rule_is_text() -> None:
    with pytest.raises(RuleError, match="a rule is text, not int"):
        parse_rule(5)  # type: ignore[arg-type]


def test_no_custom_attributes_declared() -> None:
    assert "no custom attributes are declared" in str(error('attributes.tier == "a"', default_catalog()))


# ------------------------------------------------------------------ catalog


def test_default_catalog_has_the_profile_fields_with_their_types() -> None:
    catalog = default_catalog()
    expected = {
        FieldType.TEXT: {"email", "first_name", "last_name", "phone", "country", "region", "city", "postal_code",
                         "company", "favourite_category", "favourite_product_type", "rfm_score", "cart_url"},
        FieldType.BOOL: {"is_b2b", "is_staff", "has_open_cart"},
        FieldType.ENUM: {"consent", "lifecycle", "rfm_group"},
        FieldType.INTEGER: {"orders_count", "days_since_last_order", "rfm_recency", "rfm_frequency", "rfm_monetary",
                            "birthday_month", "cart_items", "discount_orders", "spend_percentile"},
        FieldType.NUMBER: {"total_spent", "average_order_value", "purchase_frequency", "cart_value"},
        FieldType.DATE: {"first_order_date", "last_order_date", "signup_date", "birthday", "consent_date",
                         "cart_abandoned_at"},
        FieldType.SET: {"categories", "product_types", "products", "shops", "shop_tags", "discount_codes",
                        "channels"},
    }
    assert {kind: {f.name for f in catalog if f.type is kind} for kind in FieldType} == expected
    assert catalog["consent"].values == ("subscribed", "not_subscribed", "unsubscribed", "pending")
    assert catalog["lifecycle"].values == ("prospect", "new", "active", "at_risk", "inactive", "lapsed")
    assert len(catalog["rfm_group"].values or ()) == 11
    assert all(f.description for f in catalog)


def test_with_attributes_adds_typed_custom_attributes() -> None:
    tiers = Field("tier", FieldType.ENUM, ("gold", "silver"), "loyalty tier")
    catalog = default_catalog().with_attributes({"tier": tiers, "score": "number", "joined": FieldType.DATE})
    assert catalog["attributes.tier"].values == ("gold", "silver")
    assert catalog["attributes.score"].type is FieldType.NUMBER and catalog["attributes.score"].is_attribute
    assert "attributes.joined" in catalog and catalog.get("joined") is None
    assert "did you mean \"gold\"" in str(error('attributes.tier == "Gold"', catalog))
    assert len(default_catalog()) + 3 == len(catalog)


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: default_catalog().with_attributes({"tier": "colour"}), "unknown type 'colour'"),
        (lambda: default_catalog().with_attributes({"class": "text"}), "reserved"),
        (lambda: default_catalog().with_attributes({"__x": "text"}), "reserved"),
        (lambda: default_catalog().with_attributes({"my tier": "text"}), "letters, digits and _"),
        (lambda: default_catalog().with_attributes({"tier": "text"}).with_attributes({"tier": "text"}), "twice"),
        (lambda: Field("today", "date"), "reserved"),
        (lambda: Field("tier", "enum"), "needs its allowed values"),
        (lambda: Field("tier", "text", ("a",)), "only an enum field"),
        (lambda: Catalog(["phone"]), "expected Field objects"),  # type: ignore[list-item]
    ],
)
def test_bad_catalog_declarations_are_config_errors(build: Any, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        build()


# ------------------------------------------------------------------ SQL


def test_values_are_bound_parameters_never_sql_text() -> None:
    rule = parse_rule(
        'country in ["FR\'; DROP TABLE x; --"] and total_spent >= 500 and "Mug" in categories '
        'and attributes.loyalty_tier == "gold"',
        CATALOG,
    )
    query = select(profiles.c.id).where(compile_rule(rule, COLUMNS, today=TODAY))
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        compiled = query.compile(dialect=dialect)
        sql = str(compiled)
        for value in ("DROP", "500", "Mug", "gold", "categories", "loyalty_tier"):
            assert value not in sql
        assert "FR'; DROP TABLE x; --" in compiled.params.values()


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_money_is_bound_through_the_column_type(dialect: Any) -> None:
    rule = parse_rule("total_spent >= 500 and attributes.points > 3", CATALOG)
    compiled = select(profiles.c.id).where(compile_rule(rule, COLUMNS, today=TODAY)).compile(dialect=dialect)
    money = {id(bind): bind for bind in compiled.binds.values() if isinstance(bind.type, MoneyType)}.values()
    assert sorted(bind.type.bind_processor(dialect)(bind.value) for bind in money) == [30_000, 5_000_000]


def test_not_compiles_as_not_coalesce() -> None:
    condition = compile_rule(parse_rule("not (orders_count > 5)"), COLUMNS, today=TODAY)
    assert str(condition.compile(dialect=postgresql.dialect())).startswith("NOT coalesce(")


def test_a_field_the_store_does_not_provide() -> None:
    rule = parse_rule('has(cart_url) or "x" in channels', segment="carts")
    with pytest.raises(RuleError, match=r"segment 'carts', column 1: .*cart_url has no column in this store"):
        compile_rule(rule, COLUMNS, today=TODAY)
    without_tables = ProfileColumns(profiles.c.id, {"cart_url": profiles.c.city})
    with pytest.raises(RuleError, match="channels is a set field, and no set-values table was given"):
        compile_rule(rule, without_tables, today=TODAY)
    with pytest.raises(RuleError, match="is a custom attribute, and no attributes table was given"):
        compile_rule(parse_rule("attributes.points > 1", CATALOG), without_tables, today=TODAY)


def test_today_must_be_a_date() -> None:
    with pytest.raises(TypeError, match="today must be a date"):
        compile_rule(parse_rule("is_b2b"), COLUMNS, today=datetime(2026, 1, 15, tzinfo=UTC))  # type: ignore[arg-type]


def test_tables_without_the_expected_columns_are_refused() -> None:
    with pytest.raises(ConfigError, match="seg_profiles lacks the columns profile_id, name, value"):
        ProfileColumns(profiles.c.id, {}, values=profiles)


def test_set_names_map_a_field_to_another_name_in_the_values_table(people_db: Engine) -> None:
    columns = ProfileColumns(profiles.c.id, COLUMNS.scalars, set_values, attribute_values,
                             set_names={"product_types": "categories"})
    rule = parse_rule('"Mug" in product_types')
    query = select(profiles.c.id).where(compile_rule(rule, columns, today=TODAY))
    with people_db.connect() as conn:
        assert names(set(conn.scalars(query))) == {"ada", "fay"}


def test_another_link_column_and_plain_integer_and_float_columns() -> None:
    tables = MetaData()
    people = Table("p", tables, Column("id", Integer, primary_key=True), Column("total_spent", Integer),
                   Column("purchase_frequency", Float))
    values = Table("v", tables, Column("person", Integer), Column("name", Text), Column("value", Text))
    columns = ProfileColumns(people.c.id, {"total_spent": people.c.total_spent,
                                           "purchase_frequency": people.c.purchase_frequency},
                             values, link_column="person")
    engine = create_engine("sqlite://", poolclass=StaticPool)
    tables.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(people), [{"id": 1, "total_spent": 500, "purchase_frequency": 2.5},
                                      {"id": 2, "total_spent": 499, "purchase_frequency": 0.5}])
        conn.execute(insert(values), [{"person": 1, "name": "categories", "value": "Mug"}])

    def ids(text: str) -> set[int]:
        query = select(people.c.id).where(compile_rule(parse_rule(text), columns, today=TODAY))
        with engine.connect() as conn:
            return set(conn.scalars(query))

    assert ids("total_spent >= 500") == {1}
    assert ids("total_spent >= 499.5") == {1}
    assert ids("total_spent < 499.5") == {2}
    assert ids("purchase_frequency > 2.4999") == {1}
    assert ids('"Mug" in categories') == {1}
    assert ids('"Mug" not in categories') == {2}
    with pytest.raises(ConfigError, match="v lacks the columns profile_id"):
        ProfileColumns(people.c.id, {}, values)
    engine.dispose()


def test_public_names() -> None:
    assert sorted(segments.__all__) == sorted([
        "CONSENT_STATES", "LIFECYCLE_STAGES", "MAX_DEPTH", "MAX_RULE_LENGTH", "RFM_GROUPS", "Catalog",
        "ExplainStep", "Field", "FieldType", "ProfileColumns", "Rule", "RuleError", "compile_rule",
        "default_catalog", "evaluate_rule", "explain_values", "parse_rule", "referenced_fields",
    ])
    assert all(hasattr(segments, name) for name in segments.__all__)


# ------------------------------------------------------------------ properties

VALID = [text for text, _ in EXAMPLES + MORE]


class Ran(Exception):
    """Raised by the sentinels: something in the rule was executed."""


def _forbidden(*args: Any, **kwargs: Any) -> None:
    raise Ran(args)


PAYLOADS = [
    "__import__('os').system('touch /tmp/pwned')",
    "boom()",
    "().__class__.__bases__[0].__subclasses__()",
    "(lambda: boom())()",
    "[boom() for _ in [1]]",
    "{boom() for _ in [1]}",
    "(boom() for _ in [1])",
    "f'{boom()}'",
    "getattr(__builtins__, 'eval')('boom()')",
    "eval('boom()')",
    "exec('boom()')",
    "open('/etc/passwd').read()",
    "globals()['boom']()",
    "boom.__call__()",
    "(boom := 1)",
    "breakpoint()",
    "is_empty(boom())",
    "lower(boom())",
    "days_ago(boom())",
    "date(boom())",
    "is_empty(phone)[boom()]",
    "phone.__class__.__mro__",
    "'{0.__class__}'.format(phone)",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.sampled_from(PAYLOADS),
    rule=st.sampled_from(VALID),
    joiner=st.sampled_from([" and ", " or ", " and not ", " == ", " in ", ", ", "(", ")", " "]),
    payload_first=st.booleans(),
)
@example(payload="__import__('os').system('touch /tmp/pwned')", rule="is_b2b", joiner=" and ", payload_first=False)
def test_parsing_never_executes_anything(payload: str, rule: str, joiner: str, payload_first: bool) -> None:
    text = payload + joiner + rule if payload_first else rule + joiner + payload
    real_compile = builtins.compile
    imports: list[str] = []
    real_import = builtins.__import__

    def spy_import(name: str, *args: Any, **kwargs: Any) -> Any:
        imports.append(name)
        return real_import(name, *args, **kwargs)

    def ast_only_compile(source: Any, filename: Any, mode: str, flags: int = 0, *args: Any, **kwargs: Any) -> Any:
        if not flags & 0x400:  # ast.PyCF_ONLY_AST: building a tree is fine, building code is not
            raise Ran("compile to code")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    with (
        mock.patch("os.system", _forbidden),  # first: resolving "os.system" imports re
        mock.patch.object(builtins, "boom", _forbidden, create=True),
        mock.patch.object(builtins, "eval", _forbidden),
        mock.patch.object(builtins, "exec", _forbidden),
        mock.patch.object(builtins, "open", _forbidden),
        mock.patch.object(builtins, "breakpoint", _forbidden),
        mock.patch.object(builtins, "compile", ast_only_compile),
        mock.patch.object(builtins, "__import__", spy_import),
    ):
        with pytest.raises(RuleError) as caught:
            parse_rule(text, CATALOG, segment="fuzz")
    assert imports == []
    assert str(caught.value).startswith("segment 'fuzz'")


def _outcome(text: str) -> Rule | None:
    """Parse ``text``: a Rule, or None for a RuleError; anything else fails the test."""
    try:
        return parse_rule(text, CATALOG, segment="fuzz")
    except RuleError as err:
        message = str(err)
        assert message.startswith("segment 'fuzz'") and err.problem and err.problem in message
        return None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
@example("\ud800")
@example("\x00")
@example("(" * 200)
@example("-" * 1999 + "1")
@example("not " * 499 + "x")
@example("[" * 100 + "]" * 100)
@example("'''")
@example("\\")
@example("\f\v")
def test_any_text_is_a_rule_or_a_rule_error(text: str) -> None:
    _outcome(text)


GRAMMAR_CHARACTERS = string.ascii_letters + string.digits + "_ .,()[]{}\"'=<>!&|@%/*-+#:;\\\n\t~^$"


@st.composite
def mutated_rules(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        width = draw(st.integers(1, 6))
        if kind == "delete":
            text = text[:position] + text[position + width:]
        elif kind == "insert":
            text = text[:position] + draw(st.text(GRAMMAR_CHARACTERS, min_size=1, max_size=4)) + text[position:]
        elif kind == "replace":
            text = text[:position] + draw(st.text(GRAMMAR_CHARACTERS, min_size=1, max_size=2)) + text[position + 1:]
        else:
            text = text[:position] + text[position:position + width] * 2 + text[position + width:]
    return text


@pytest.fixture(scope="module")
def memory_db() -> Iterator[Engine]:
    """One in-memory SQLite database shared by the property tests (rows replaced per example)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@settings(max_examples=300, deadline=None)
@given(mutated_rules())
def test_mutated_rules_parse_or_fail_cleanly_and_what_parses_also_runs(memory_db: Engine, text: str) -> None:
    rule = _outcome(text)
    if rule is None:
        return
    store_people(memory_db, PEOPLE)
    in_sql = selected(memory_db, rule)
    in_python = {number for number, person in enumerate(PEOPLE, start=1) if evaluate_rule(rule, person, today=TODAY)}
    assert in_sql == in_python, str(rule)


# Random profiles over small domains full of edge cases, and random rules over the same fields.
MONEY = st.sampled_from([Decimal(v) for v in ("0", "99.9999", "100", "100.0001", "499.9999", "500", "500.0001")])


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


profiles_strategy = st.fixed_dictionaries(
    {
        "first_name": st.just("p"),
        "country": _optional(st.sampled_from(["", "FR", "BE", "fr"])),
        "city": _optional(st.sampled_from(["", "Paris", "PARIS", "paris", "ZÜRICH", "zürich", "Zürich"])),
        "company": _optional(st.sampled_from(["", "Acme"])),
        "consent": _optional(st.sampled_from(["subscribed", "unsubscribed", "pending", ""])),
        "total_spent": _optional(MONEY),
        "orders_count": _optional(st.integers(0, 4)),
        "days_since_last_order": _optional(st.sampled_from([0, 179, 180, 181, 400])),
        "birthday_month": _optional(st.integers(1, 12)),
        "is_b2b": _optional(st.booleans()),
        "last_order_date": _optional(st.sampled_from([
            utc(2025, 10, 16, 23, 59, 59), utc(2025, 10, 17), utc(2025, 10, 17, 23, 59, 59, ), utc(2025, 10, 18),
            utc(2026, 1, 15, 12), datetime(2025, 10, 17, 23, 30, tzinfo=UTC),
        ])),
        "signup_date": _optional(st.sampled_from([date(2023, 12, 31), date(2024, 1, 1), date(2026, 1, 15)])),
        "categories": st.frozensets(st.sampled_from(["T-shirt", "Mug", "t-shirt", ""]), max_size=3),
        "attributes.loyalty_tier": _optional(st.sampled_from(["", "gold", "GOLD", "silver"])),
        "attributes.points": _optional(st.integers(0, 200)),
        "attributes.newsletter_vip": _optional(st.booleans()),
        "attributes.member_since": _optional(st.sampled_from([date(2024, 3, 1), date(2025, 10, 17)])),
        "attributes.interests": st.frozensets(st.sampled_from(["yoga", "running"]), max_size=2),
    }
)

COMPARE = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
EQUALS = st.sampled_from(["==", "!="])
IN = st.sampled_from(["in", "not in"])
money_text = MONEY.map(str)
date_value = st.sampled_from(['date("2025-10-17")', "days_ago(90)", "today", 'date("2024-01-01")', "days_ago(0)"])
leaf_rules = st.one_of(
    st.builds("total_spent {} {}".format, COMPARE, money_text),
    st.builds("total_spent {} {} and {}".format, st.sampled_from(["between", "not between"]), money_text, money_text)
    .filter(lambda t: Decimal(t.split()[-3]) <= Decimal(t.split()[-1])),
    st.builds("orders_count {} {}".format, COMPARE, st.integers(-1, 5)),
    st.builds("days_since_last_order {} {}".format, COMPARE, st.sampled_from([179, 180, 181])),
    st.builds("birthday_month {} this_month".format, COMPARE),
    st.builds('country {} "{}"'.format, EQUALS, st.sampled_from(["FR", "BE", "fr"])),
    st.builds('country {} ["FR", "BE"]'.format, IN),
    st.builds('lower(city) {} "{}"'.format, EQUALS, st.sampled_from(["paris", "zürich"])),
    st.builds('lower(city) {} ["paris", "zürich"]'.format, IN),
    st.builds('company {} "Acme"'.format, EQUALS),
    st.builds('consent {} ["subscribed", "pending"]'.format, IN),
    st.builds("is_b2b {} {}".format, EQUALS, st.sampled_from(["True", "False"])),
    st.just("is_b2b"),
    st.builds("last_order_date {} {}".format, COMPARE, date_value),
    st.builds("last_order_date {} [{}, {}]".format, IN, date_value, date_value),
    st.builds("last_order_date {} {} and {}".format, st.sampled_from(["between", "not between"]),
              st.just('date("2025-10-17")'), st.sampled_from(['date("2025-10-17")', "today"])),
    st.builds("signup_date {} {}".format, COMPARE, date_value),
    st.builds('"{}" {} categories'.format, st.sampled_from(["T-shirt", "Mug"]), IN),
    st.builds("{}({})".format, st.sampled_from(["is_empty", "has"]), st.sampled_from([
        "country", "city", "company", "total_spent", "last_order_date", "categories", "attributes.loyalty_tier",
        "attributes.points", "attributes.interests", "attributes.member_since",
    ])),
    st.builds('attributes.loyalty_tier {} "gold"'.format, EQUALS),
    st.builds("attributes.points {} {}".format, COMPARE, st.sampled_from([0, 100, 200])),
    st.builds("attributes.newsletter_vip {} {}".format, EQUALS, st.sampled_from(["True", "False"])),
    st.just("attributes.newsletter_vip"),
    st.builds('attributes.member_since {} date("2025-10-17")'.format, COMPARE),
    st.builds('"yoga" {} attributes.interests'.format, IN),
)
rule_texts = st.recursive(
    leaf_rules,
    lambda inner: st.one_of(
        st.builds("({}) and ({})".format, inner, inner),
        st.builds("({}) or ({})".format, inner, inner),
        st.builds("not ({})".format, inner),
    ),
    max_leaves=5,
)


@settings(max_examples=250, deadline=None)
@given(people=st.lists(profiles_strategy, min_size=1, max_size=6), text=rule_texts)
def test_sql_and_the_python_evaluator_agree(memory_db: Engine, people: list[dict[str, Any]], text: str) -> None:
    rule = parse_rule(text, CATALOG)
    store_people(memory_db, people)
    in_python = {n for n, person in enumerate(people, start=1) if evaluate_rule(rule, person, today=TODAY)}
    assert selected(memory_db, rule) == in_python
    # The canonical text is a rule that means the same; so is each fragment explain reports.
    again = parse_rule(str(rule), CATALOG)
    assert str(again) == str(rule)
    for person in people:
        assert evaluate_rule(again, person, today=TODAY) == evaluate_rule(rule, person, today=TODAY)
        for fragment, _, result in explain_values(rule, person, today=TODAY):
            assert evaluate_rule(parse_rule(fragment, CATALOG), person, today=TODAY) is result


def test_explain_agrees_with_the_evaluator_on_a_single_leaf() -> None:
    row: Mapping[str, Any] = {"total_spent": Decimal("500"), "country": None}
    rule = parse_rule('total_spent >= 500 and not (country == "FR")')
    assert [step.result for step in explain_values(rule, row, today=TODAY)] == [True, False]
    assert evaluate_rule(rule, row, today=TODAY) is True
