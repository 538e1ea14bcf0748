"""Which values a field may be compared with, and how to say so when it may not.

One rule per field type (see :mod:`connector.segments.rules` for the grammar):

- text and enum: non-empty text, ``==``/``!=``/``in`` only; an enum's value must be one of its
  allowed values; ``lower(field)`` is compared with lower-case text;
- number: a number with at most 4 decimal places (the store keeps money in ten-thousandths);
- integer: a whole number (``3.0`` is taken as ``3``, ``2.5`` refused), or ``this_month``;
- date: ``date("YYYY-MM-DD")``, ``today`` or ``days_ago(n)``;
- bool: ``True`` or ``False``, ``==``/``!=`` only;
- set: never compared; tested with ``"x" in field``, ``is_empty`` and ``has``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from connector.segments.catalog import FieldType
from connector.segments.nodes import FieldRef, Literal, Operator, Relative, Value, ascii_lower, render_value
from connector.segments.syntax import RuleError

__all__ = ["DECIMAL_PLACES", "ISO_DATE", "TEXTUAL", "check_value", "describe", "example", "is_a"]

Fail = Callable[[str, str], RuleError]  # (problem, expected) -> the error to raise

DECIMAL_PLACES = 4  # the store keeps money in ten-thousandths
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TEXTUAL = (FieldType.TEXT, FieldType.ENUM)
IS_A: dict[FieldType, str] = {
    FieldType.TEXT: "is text",
    FieldType.ENUM: "is one of a fixed list of values",
    FieldType.NUMBER: "is a number",
    FieldType.INTEGER: "is a whole number",
    FieldType.DATE: "is a date",
    FieldType.BOOL: "is a yes/no field",
    FieldType.SET: "is a set of values",
}


def is_a(field: FieldRef) -> str:
    """``"total_spent is a number"``."""
    return f"{field} {IS_A[FieldType.TEXT if field.lower else field.type]}"


def describe(value: Value) -> str:
    """``'text "a lot"'``, ``"the number 5"``, ``"days_ago(90) (a date)"``."""
    if isinstance(value, Relative):
        return f"{value} (a month number)" if value.kind == "this_month" else f"{value} (a date)"
    if isinstance(value.value, bool):
        return str(value.value)
    if isinstance(value.value, str):
        return f"text {render_value(value.value)}"
    if isinstance(value.value, date):
        return f"the date {value.value.isoformat()}"
    return f"the number {value.value}"


def example(field: FieldRef) -> str:
    """An example condition on ``field``, for 'expected ...' hints."""
    name = str(field)
    kind = FieldType.TEXT if field.lower else field.type
    if kind is FieldType.ENUM and field.field.values:
        return f"{name} == {render_value(field.field.values[0])}"
    return {
        FieldType.TEXT: f'{name} == "..." or has({name})',
        FieldType.NUMBER: f"{name} >= 500",
        FieldType.INTEGER: f"{name} >= 3",
        FieldType.DATE: f"{name} < days_ago(90)",
        FieldType.BOOL: f"{name} == True",
        FieldType.SET: f'"..." in {name} or has({name})',
    }[kind]


def check_value(field: FieldRef, op: Operator, value: Value, fail: Fail) -> Value:
    """``value`` checked (and converted: ``500`` -> ``Decimal(500)``) for comparing with ``field`` by ``op``.

    Raises:
        RuleError: from ``fail(problem, expected)``, when the types do not fit.
    """
    kind = FieldType.TEXT if field.lower else field.type
    ordering = op not in ("==", "!=")
    mismatch = f"{is_a(field)}, compared with {describe(value)}"
    if kind is FieldType.SET:
        raise fail(f"{is_a(field)}; it cannot be compared with {op}",
                   f'a membership test, e.g. "T-shirt" in {field}, or has({field})')
    if kind in (FieldType.TEXT, FieldType.ENUM, FieldType.BOOL) and ordering:
        raise fail(f"{is_a(field)}; it cannot be ordered with {op}",
                   f"== or != (or in [...]), e.g. {example(field)}")
    if kind in (FieldType.TEXT, FieldType.ENUM):
        return _check_text(field, value, mismatch, fail)
    if kind is FieldType.BOOL:
        if isinstance(value, Literal) and isinstance(value.value, bool):
            return value
        raise fail(mismatch, "True or False")
    literal = value.value if isinstance(value, Literal) else None
    is_number = isinstance(literal, int | Decimal) and not isinstance(literal, bool)
    if kind is FieldType.NUMBER and is_number:
        number = Decimal(literal)  # type: ignore[arg-type]
        if number.as_tuple().exponent < -DECIMAL_PLACES:  # type: ignore[operator]
            raise fail(f"{number} has more than {DECIMAL_PLACES} decimal places",
                       f"a number with at most {DECIMAL_PLACES} decimals, e.g. 19.99")
        return Literal(number)
    if kind is FieldType.INTEGER:
        if isinstance(value, Relative) and value.kind == "this_month":
            return value
        if is_number and Decimal(literal) == int(literal):  # type: ignore[arg-type]
            return Literal(int(literal))  # type: ignore[arg-type]
        raise fail(mismatch, "a whole number, e.g. 3")
    if kind is FieldType.DATE:
        if (isinstance(value, Relative) and value.kind != "this_month") or isinstance(literal, date):
            return value
        if isinstance(literal, str) and ISO_DATE.fullmatch(literal):
            raise fail(mismatch, f'a date: date("{literal}")')
        raise fail(mismatch, 'a date, e.g. days_ago(90), today or date("2024-01-01")')
    raise fail(mismatch, "a number, e.g. 500")


def _check_text(field: FieldRef, value: Value, mismatch: str, fail: Fail) -> Value:
    text = value.value if isinstance(value, Literal) else None
    allowed = field.field.values if field.type is FieldType.ENUM and not field.lower else None
    if not isinstance(text, str):
        expected = ("one of " + ", ".join(render_value(v) for v in allowed)) if allowed else 'text, e.g. "FR"'
        raise fail(mismatch, expected)
    if not text:
        raise fail("empty text is not a value", f"is_empty({field.field.name}) for empty fields")
    if field.lower and ascii_lower(text) != text:
        raise fail(f"{field} is compared with {render_value(text)}, which has capitals, "
                   "so it never matches", f"lower-case text: {render_value(ascii_lower(text))}")
    if allowed and text not in allowed:
        by_case = {v.lower(): v for v in allowed}
        close = [by_case[text.lower()]] if text.lower() in by_case else difflib.get_close_matches(text, allowed)
        hint = ", ".join(render_value(v) for v in allowed)
        if close:
            hint = f"did you mean {' or '.join(render_value(v) for v in close)}? The values are {hint}"
        else:
            hint = f"one of {hint}"
        raise fail(f"{render_value(text)} is not a value of {field}", hint)
    return value
