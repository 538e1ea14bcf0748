"""Evaluate a rule in Python over one profile, and say which conditions held.

This is the same rule as :func:`connector.segments.sql.compile_rule` runs in the database,
with the same semantics (see that module's docstring): an empty field makes every
comparison false, ``not`` is two-valued, empty text counts as empty, dates held as datetimes
are compared by their UTC day, and ``lower()`` folds A-Z only (as SQLite does). The tests
check the two agree on random profiles.

A profile is a mapping from field name (``attributes.<name>`` for custom attributes) to its
value: ``str``, ``Decimal``/``int``, ``date``/``datetime``, ``bool``, or an iterable of strings
for a set field. A missing key is an empty field.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from connector.segments.catalog import Field, FieldType
from connector.segments.nodes import (
    And,
    Between,
    Comparison,
    Condition,
    Contains,
    Emptiness,
    IsTrue,
    Leaf,
    Membership,
    Not,
    Or,
    Prefix,
    Rule,
    ascii_lower,
    iter_leaves,
)

__all__ = ["ExplainStep", "evaluate_rule", "explain_values", "profile_value"]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class ExplainStep(NamedTuple):
    """One leaf condition of a rule, the profile's value for its field, and whether it held."""

    fragment: str
    value: Any
    result: bool


def profile_value(field: Field, raw: Any) -> Any:
    """``raw`` as the rule sees it: ``None`` for empty, ``frozenset`` for sets, a ``date`` for dates."""
    kind = field.type
    if kind is FieldType.SET:
        if raw is None:
            return frozenset()
        return frozenset({raw}) if isinstance(raw, str) else frozenset(str(item) for item in raw)
    if raw is None:
        return None
    if kind in (FieldType.TEXT, FieldType.ENUM):
        return str(raw) or None
    if kind is FieldType.BOOL:
        return bool(raw)
    if kind is FieldType.DATE:
        if isinstance(raw, datetime):
            return raw.astimezone(UTC).date() if raw.tzinfo is not None else raw.date()
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    if kind is FieldType.INTEGER:
        return int(raw)
    return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)


def evaluate_rule(rule: Rule, row: Mapping[str, Any], *, today: date) -> bool:
    """Whether the profile ``row`` is in the segment of ``rule`` on day ``today``."""
    return _condition(rule.condition, row, today)


def explain_values(rule: Rule, row: Mapping[str, Any], *, today: date) -> list[ExplainStep]:
    """Each leaf condition of ``rule``, left to right, with the profile's value and its result.

    Every leaf is evaluated (no short-circuit), so the explanation shows all of them; combine
    them with :func:`evaluate_rule` for the verdict.
    """
    steps = []
    for leaf in iter_leaves(rule.condition):
        value = profile_value(leaf.field.field, row.get(leaf.field.name))
        steps.append(ExplainStep(str(leaf), value, _leaf(leaf, value, today)))
    return steps


def _condition(condition: Condition, row: Mapping[str, Any], today: date) -> bool:
    if isinstance(condition, Not):
        return not _condition(condition.operand, row, today)
    if isinstance(condition, And):
        return all(_condition(c, row, today) for c in condition.operands)
    if isinstance(condition, Or):
        return any(_condition(c, row, today) for c in condition.operands)
    return _leaf(condition, profile_value(condition.field.field, row.get(condition.field.name)), today)


def _leaf(leaf: Leaf, value: Any, today: date) -> bool:
    if isinstance(leaf, Emptiness):
        empty = value is None or (isinstance(value, frozenset) and not value)
        return empty if leaf.empty else not empty
    if isinstance(leaf, Contains):
        return (leaf.value not in value) if leaf.negated else (leaf.value in value)
    if value is None:  # an empty field makes every comparison false, negative ones included
        return False
    if leaf.field.lower:
        value = ascii_lower(value)
    if isinstance(leaf, IsTrue):
        return value is True
    if isinstance(leaf, Prefix):
        return isinstance(value, str) and value.startswith(leaf.prefix)
    if isinstance(leaf, Comparison):
        return _COMPARE[leaf.op](value, leaf.value.resolve(today))
    if isinstance(leaf, Membership):
        found = value in _resolved(leaf.values, today)
        return not found if leaf.negated else found
    if isinstance(leaf, Between):
        inside = leaf.low.resolve(today) <= value <= leaf.high.resolve(today)  # type: ignore[operator]
        return not inside if leaf.negated else inside
    raise TypeError(f"not a rule condition: {leaf!r}")  # pragma: no cover


def _resolved(values: Iterable[Any], today: date) -> list[Any]:
    return [v.resolve(today) for v in values]
