"""A parsed and type-checked segment rule: a small tree of conditions over catalog fields.

:func:`connector.segments.rules.parse_rule` builds it; :mod:`connector.segments.sql` compiles
it and :mod:`connector.segments.explain` evaluates it in Python. Every value in the tree has
already been checked against its field's type, so neither needs to check again.

``str()`` of any node is its canonical rule text (``total_spent >= 500``), which is also the
fragment ``explain`` reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal as Kind

from connector.segments.catalog import Field, FieldType

__all__ = [
    "And",
    "Between",
    "Comparison",
    "Condition",
    "Contains",
    "Emptiness",
    "Prefix",
    "FieldRef",
    "IsTrue",
    "Leaf",
    "Literal",
    "Membership",
    "Not",
    "Or",
    "Relative",
    "Rule",
    "Scalar",
    "Value",
    "ascii_lower",
    "iter_leaves",
    "referenced_fields",
    "render_value",
]

Scalar = str | int | Decimal | bool | date
Operator = Kind["==", "!=", "<", "<=", ">", ">="]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lower-cased and nothing else changed: what SQLite's ``lower()`` does."""
    return text.translate(_ASCII_LOWER)


def render_value(value: Scalar) -> str:
    """A value as rule text: ``"FR"``, ``500``, ``True``, ``date("2024-01-01")``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return f'date("{value.isoformat()}")'
    return str(value)


@dataclass(frozen=True)
class FieldRef:
    """A field as an operand, optionally lower-cased (``lower(city)``)."""

    field: Field
    lower: bool = False

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def type(self) -> FieldType:
        return self.field.type

    def __str__(self) -> str:
        return f"lower({self.field.name})" if self.lower else self.field.name


@dataclass(frozen=True)
class Literal:
    """A constant written in the rule, already converted to its field's type."""

    value: Scalar

    def resolve(self, today: date) -> Scalar:
        return self.value

    def __str__(self) -> str:
        return render_value(self.value)


@dataclass(frozen=True)
class Relative:
    """A value that depends on the day of evaluation: ``today``, ``this_month``, ``days_ago(n)``."""

    kind: Kind["today", "this_month", "days_ago"]
    days: int = 0

    def resolve(self, today: date) -> date | int:
        if self.kind == "this_month":
            return today.month
        return today - timedelta(days=self.days)

    def __str__(self) -> str:
        return f"days_ago({self.days})" if self.kind == "days_ago" else self.kind


Value = Literal | Relative


@dataclass(frozen=True)
class Comparison:
    """``field <op> value``; the field is always on the left (``500 <= x`` is stored as ``x >= 500``)."""

    field: FieldRef
    op: Operator
    value: Value
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value}"


@dataclass(frozen=True)
class Membership:
    """``field in [v1, v2]`` (or ``not in``) for a scalar field."""

    field: FieldRef
    values: tuple[Value, ...]
    negated: bool = False
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        items = ", ".join(str(v) for v in self.values)
        return f"{self.field} {'not in' if self.negated else 'in'} [{items}]"


@dataclass(frozen=True)
class Contains:
    """``"T-shirt" in categories`` (or ``not in``) for a set field."""

    field: FieldRef
    value: str
    negated: bool = False
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{render_value(self.value)} {'not in' if self.negated else 'in'} {self.field}"


@dataclass(frozen=True)
class Emptiness:
    """``is_empty(field)`` (``empty=True``) or ``has(field)`` (``empty=False``)."""

    field: FieldRef
    empty: bool = True
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{'is_empty' if self.empty else 'has'}({self.field})"


@dataclass(frozen=True)
class Prefix:
    """``starts_with(field, "prefix")``: a text field beginning with the prefix (case as written)."""

    field: FieldRef
    prefix: str
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"starts_with({self.field}, {render_value(self.prefix)})"


@dataclass(frozen=True)
class Between:
    """``field between low and high``, both ends included (or ``not between``)."""

    field: FieldRef
    low: Value
    high: Value
    negated: bool = False
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.field} {'not between' if self.negated else 'between'} {self.low} and {self.high}"


@dataclass(frozen=True)
class IsTrue:
    """A yes/no field used as a condition by itself: ``is_b2b``."""

    field: FieldRef
    offset: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return str(self.field)


Leaf = Comparison | Membership | Contains | Emptiness | Prefix | Between | IsTrue


@dataclass(frozen=True)
class Not:
    operand: Condition

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"not {inner}" if isinstance(self.operand, Emptiness | Prefix | IsTrue | Not) else f"not ({inner})"


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]

    def __str__(self) -> str:
        return " or ".join(str(o) for o in self.operands)


Condition = Leaf | Not | And | Or


@dataclass(frozen=True)
class Rule:
    """A checked rule.

    Attributes:
        source: the rule as the marketer wrote it.
        condition: the condition tree.
        segment: the segment's name, for error messages, if known.
    """

    source: str
    condition: Condition
    segment: str | None = None

    def __str__(self) -> str:
        return str(self.condition)


def iter_leaves(condition: Condition) -> Iterator[Leaf]:
    """The leaf conditions of ``condition``, left to right."""
    if isinstance(condition, Not):
        yield from iter_leaves(condition.operand)
    elif isinstance(condition, And | Or):
        for operand in condition.operands:
            yield from iter_leaves(operand)
    else:
        yield condition


def referenced_fields(rule: Rule) -> frozenset[str]:
    """The names of the fields ``rule`` reads (``attributes.<name>`` for custom attributes).

    Used to recompute a segment only when one of its fields changed, and by ``explain``.
    """
    return frozenset(leaf.field.name for leaf in iter_leaves(rule.condition))
