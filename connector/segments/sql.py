"""Compile a checked segment rule to a SQLAlchemy boolean expression (SQLite and PostgreSQL).

Every value of the rule is a bound parameter typed with the column it is compared with, so it
goes through that type's bind processor: ``total_spent >= 500`` against a ``MoneyType``
column binds ``5000000`` ten-thousandths and compares exactly. Nothing is interpolated into SQL.

What empty means (``explain.py`` implements the same in Python, and the tests check they agree):

- **A comparison with an empty field is false, whatever the operator.** ``days_since_last_order
  > 180`` is false for someone who never ordered; so are ``country != "FR"``, ``country not
  in ["FR"]`` and ``x not between 1 and 5`` when the field is empty. To include the empty ones,
  say so: ``country != "FR" or is_empty(country)``.
- **Empty text is empty**: ``''`` behaves like NULL, so ``company != "Acme"`` is false for
  ``company = ''`` too.
- **``not`` is two-valued**: it negates the whole condition, and a condition that was false
  because a field was empty becomes true. ``not (country == "FR")`` is true for an empty
  country. Compiled as ``NOT COALESCE(e, FALSE)``.
- ``is_empty(text)`` is NULL or ``''``; ``is_empty(set)`` is "no value at all"; for other
  types, NULL. ``has(x)`` is the opposite. ``"x" not in categories`` is true for someone with
  no categories.
- A yes/no field alone (``is_b2b``) is true only when it is true; ``not is_b2b`` is true for
  false and for empty.

Dates: a ``date`` field may be held in a ``DATE`` column, or in a datetime column (such as
``UtcDateTime``), in which case it is compared by its day: ``last_order_date < days_ago(90)``
becomes ``last_order_date < <that day> 00:00`` (UTC for a timezone-aware column), ``==`` a
one-day range. ``today``, ``this_month`` and ``days_ago(n)`` use the ``today`` given to
:func:`compile_rule`, never the system clock.

Custom attributes are read with a correlated ``SELECT max(value_...)`` (one value per profile
and name; ``max`` keeps it to one row); text and enums in ``value_text``, numbers, whole
numbers and yes/no (1 or 0) in ``value_number``, dates in ``value_date``, and a set-typed
attribute as one ``value_text`` row per value.

``lower()`` compiles to SQL ``lower()``, which folds A-Z only on SQLite (and in ``explain``);
PostgreSQL also folds other letters, by its locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ColumnElement, FromClause, and_, exists, false, func, literal, not_, or_, select
from sqlalchemy.types import TypeDecorator, TypeEngine

from connector.errors import ConfigError
from connector.segments.catalog import Field, FieldType
from connector.segments.nodes import (
    And,
    Between,
    Comparison,
    Condition,
    Contains,
    Emptiness,
    FieldRef,
    IsTrue,
    Leaf,
    Membership,
    Not,
    Or,
    Prefix,
    Rule,
    Value,
)
from connector.segments.syntax import RuleError

__all__ = ["ATTRIBUTE_COLUMNS", "ProfileColumns", "compile_rule"]

# Which column of the attributes table holds each attribute type.
ATTRIBUTE_COLUMNS: Mapping[FieldType, str] = {
    FieldType.TEXT: "value_text",
    FieldType.ENUM: "value_text",
    FieldType.SET: "value_text",
    FieldType.NUMBER: "value_number",
    FieldType.INTEGER: "value_number",
    FieldType.BOOL: "value_number",
    FieldType.DATE: "value_date",
}
_VALUES_COLUMNS = ("name", "value")
_ATTRIBUTES_COLUMNS = ("name", "value_text", "value_number", "value_date")
_TEXT = (FieldType.TEXT, FieldType.ENUM)


@dataclass(frozen=True, eq=False)
class ProfileColumns:
    """Where the caller keeps each field, for :func:`compile_rule`.

    Attributes:
        profile_id: the profile's id in the query the rule filters; the set and attribute
            subqueries are correlated on it.
        scalars: field name -> column or SQL expression, for every text, enum, number,
            integer, date and bool field the rules may use.
        values: the set-values table ``(profile_id, name, value)``: one row per value of a set field.
        attributes: the custom-attributes table ``(profile_id, name, value_text, value_number, value_date)``.
        set_names: set field -> its ``name`` in ``values``, where it differs from the field name.
        link_column: the name of the profile-id column of ``values`` and ``attributes``
            (``profile_id``; the store's profile tables call it ``person``).
    """

    profile_id: ColumnElement[Any]
    scalars: Mapping[str, ColumnElement[Any]]
    values: FromClause | None = None
    attributes: FromClause | None = None
    set_names: Mapping[str, str] = field(default_factory=dict)
    link_column: str = "profile_id"

    def __post_init__(self) -> None:
        for table, needed in ((self.values, _VALUES_COLUMNS), (self.attributes, _ATTRIBUTES_COLUMNS)):
            if table is None:
                continue
            missing = [name for name in (self.link_column, *needed) if name not in table.c]
            if missing:
                raise ConfigError(f"segment tables: {table} lacks the columns {', '.join(missing)}")


def compile_rule(rule: Rule, columns: ProfileColumns, *, today: date) -> ColumnElement[bool]:
    """``rule`` as a boolean SQL expression over the caller's columns.

    Args:
        rule: a rule from :func:`connector.segments.rules.parse_rule`.
        columns: where each field lives.
        today: the day ``today``, ``this_month`` and ``days_ago(n)`` refer to.

    Returns:
        An expression for a ``WHERE`` clause; every value in it is a bound parameter.

    Raises:
        RuleError: the rule uses a field ``columns`` does not provide.
    """
    if isinstance(today, datetime) or not isinstance(today, date):
        raise TypeError(f"today must be a date, not {type(today).__name__}")
    return _Compiler(rule, columns, today).condition(rule.condition)


class _Compiler:
    def __init__(self, rule: Rule, columns: ProfileColumns, today: date) -> None:
        self.rule = rule
        self.columns = columns
        self.today = today

    def condition(self, condition: Condition) -> ColumnElement[bool]:
        if isinstance(condition, Not):
            return not_(func.coalesce(self.condition(condition.operand), false(), type_=Boolean()))
        if isinstance(condition, And):
            return and_(*(self.condition(c) for c in condition.operands))
        if isinstance(condition, Or):
            return or_(*(self.condition(c) for c in condition.operands))
        return self.leaf(condition)

    def leaf(self, leaf: Leaf) -> ColumnElement[bool]:
        if isinstance(leaf, Contains):
            found = self.set_exists(leaf, leaf.value)
            return not_(found) if leaf.negated else found
        if isinstance(leaf, Emptiness):
            return self.emptiness(leaf)
        expr = self.scalar(leaf)
        if isinstance(leaf, Prefix):
            # substr, not LIKE: SQLite's LIKE ignores ASCII case and PostgreSQL's does not.
            head = func.substr(expr, 1, len(leaf.prefix))
            return head == self.bind(expr, leaf.field, leaf.prefix)
        if isinstance(leaf, IsTrue):
            return expr == self.bind(expr, leaf.field, True)
        if isinstance(leaf, Comparison):
            compared = self.compare(expr, leaf.field, leaf.op, leaf.value)
            return and_(compared, self.not_blank(expr)) if leaf.op == "!=" and self.is_text(leaf.field) else compared
        if isinstance(leaf, Membership):
            return self.membership(expr, leaf)
        if isinstance(leaf, Between):
            ref = leaf.field
            if leaf.negated:
                return or_(self.compare(expr, ref, "<", leaf.low), self.compare(expr, ref, ">", leaf.high))
            return and_(self.compare(expr, ref, ">=", leaf.low), self.compare(expr, ref, "<=", leaf.high))
        raise TypeError(f"not a rule condition: {leaf!r}")  # pragma: no cover

    # ---------------------------------------------------------------- values and comparisons

    def bind(self, expr: ColumnElement[Any], ref: FieldRef, value: Any) -> ColumnElement[Any]:
        if isinstance(value, bool) and ref.field.is_attribute:
            value = Decimal(int(value))  # yes/no attributes are 1 or 0 in value_number
        elif isinstance(value, Decimal) and not isinstance(expr.type, TypeDecorator) and _python_type(expr.type) is int:
            # A number against a plain integer column: drivers (sqlite3) do not take a Decimal there.
            value = int(value) if value == int(value) else float(value)
        return literal(value, expr.type)

    def compare(self, expr: ColumnElement[Any], ref: FieldRef, op: str, value: Value) -> ColumnElement[bool]:
        resolved = value.resolve(self.today)
        if isinstance(resolved, date) and _holds_datetimes(expr.type):
            start, end = (self.bind(expr, ref, moment) for moment in _day_bounds(resolved, expr.type))
            by_day = {
                "==": and_(expr >= start, expr < end),
                "!=": or_(expr < start, expr >= end),
                "<": expr < start,
                "<=": expr < end,
                ">": expr >= end,
                ">=": expr >= start,
            }
            return by_day[op]
        bound = self.bind(expr, ref, resolved)
        by_op = {"==": expr == bound, "!=": expr != bound, "<": expr < bound, "<=": expr <= bound,
                 ">": expr > bound, ">=": expr >= bound}
        return by_op[op]

    def membership(self, expr: ColumnElement[Any], leaf: Membership) -> ColumnElement[bool]:
        resolved = [value.resolve(self.today) for value in leaf.values]
        if any(isinstance(v, date) for v in resolved) and _holds_datetimes(expr.type):
            found = or_(*(self.compare(expr, leaf.field, "==", value) for value in leaf.values))
            if not leaf.negated:
                return found
            # NOT over the ranges would make an empty field true; a comparison with empty is false.
            return and_(expr.is_not(None), not_(found))
        binds = [self.bind(expr, leaf.field, v) for v in resolved]
        if not leaf.negated:
            return expr.in_(binds)
        outside = expr.not_in(binds)
        return and_(outside, self.not_blank(expr)) if self.is_text(leaf.field) else outside

    def emptiness(self, leaf: Emptiness) -> ColumnElement[bool]:
        if leaf.field.type is FieldType.SET:
            found = self.set_exists(leaf, None)
            return not_(found) if leaf.empty else found
        expr = self.scalar(leaf)
        if self.is_text(leaf.field):
            blank = self.bind(expr, leaf.field, "")
            return or_(expr.is_(None), expr == blank) if leaf.empty else and_(expr.is_not(None), expr != blank)
        return expr.is_(None) if leaf.empty else expr.is_not(None)

    def not_blank(self, expr: ColumnElement[Any]) -> ColumnElement[bool]:
        return expr != literal("", expr.type)

    @staticmethod
    def is_text(ref: FieldRef) -> bool:
        return ref.lower or ref.field.type in _TEXT

    # ---------------------------------------------------------------- where fields live

    def scalar(self, leaf: Leaf) -> ColumnElement[Any]:
        ref = leaf.field
        if ref.field.is_attribute:
            table = self.attributes_table(leaf)
            column = table.c[ATTRIBUTE_COLUMNS[ref.field.type]]
            expr: ColumnElement[Any] = (
                select(func.max(column))
                .where(table.c[self.columns.link_column] == self.columns.profile_id,
                       table.c.name == literal(ref.field.attribute_name))
                .scalar_subquery()
            )
        else:
            found = self.columns.scalars.get(ref.name)
            if found is None:
                raise self.missing(leaf, f"{ref.name} has no column in this store")
            expr = found
        if ref.lower:
            expr = func.lower(expr, type_=expr.type)
        return expr

    def set_exists(self, leaf: Leaf, value: str | None) -> ColumnElement[bool]:
        """``EXISTS`` a row of the set field (with ``value``, if given) for the profile."""
        ref: Field = leaf.field.field
        if ref.is_attribute:
            table = self.attributes_table(leaf)
            name, column = ref.attribute_name, table.c.value_text
        else:
            if self.columns.values is None:
                raise self.missing(leaf, f"{ref.name} is a set field, and no set-values table was given")
            table = self.columns.values
            name, column = self.columns.set_names.get(ref.name, ref.name), table.c.value
        conditions = [table.c[self.columns.link_column] == self.columns.profile_id, table.c.name == literal(name)]
        if value is not None:
            conditions.append(column == literal(value, column.type))
        return exists().where(*conditions)

    def attributes_table(self, leaf: Leaf) -> FromClause:
        if self.columns.attributes is None:
            raise self.missing(leaf, f"{leaf.field.name} is a custom attribute, and no attributes table was given")
        return self.columns.attributes

    def missing(self, leaf: Leaf, problem: str) -> RuleError:
        return RuleError(problem, rule=self.rule.source, segment=self.rule.segment, start=leaf.offset,
                         expected="a field the store provides")


def _python_type(type_: TypeEngine[Any]) -> type | None:
    # A TypeDecorator (UtcDateTime) says `object`; the type it decorates knows better.
    for candidate in (type_, getattr(type_, "impl_instance", None)):
        try:
            kind = candidate.python_type if candidate is not None else None
        except NotImplementedError:
            continue
        if kind is not None and kind is not object:
            return kind
    return None


def _holds_datetimes(type_: TypeEngine[Any]) -> bool:
    kind = _python_type(type_)
    return kind is not None and issubclass(kind, datetime)


def _day_bounds(day: date, type_: TypeEngine[Any]) -> tuple[datetime, datetime]:
    """Midnight at the start of ``day`` and of the next day; aware UTC if the column keeps zones."""
    impl = getattr(type_, "impl_instance", type_)
    zone = UTC if getattr(impl, "timezone", False) else None
    start = datetime.combine(day, time(), tzinfo=zone)
    return start, start + timedelta(days=1)
