"""Segment rules: parse the marketer's text and type-check it against the field catalog.

Grammar (Python expression syntax, read by :mod:`ast` and never executed)::

    rule       := rule "or" rule | rule "and" rule | "not" rule | "(" rule ")"
                | operand cmp value            total_spent >= 500, 500 <= total_spent
                | value cmp operand cmp value  100 <= total_spent < 500 (< and <= or > and >= only)
                | operand ["not"] "in" list    country in ["FR", "BE"]
                | text ["not"] "in" set-field  "T-shirt" in categories
                | operand ["not"] "between" value "and" value   total_spent between 100 and 500 (ends included)
                | "is_empty(" field ")" | "has(" field ")"
                | "starts_with(" text-field "," "text" ")"   starts_with(postal_code, "75")
                | bool-field                   is_b2b
    operand    := field | "attributes." name | "lower(" text-field ")"
    value      := "text" | 123 | 12.50 | -5 | True | False | "today" | "this_month"
                | "days_ago(" whole number ")" | 'date("YYYY-MM-DD")'
    list       := "[" value {"," value} "]"   (or parentheses)
    cmp        := "==" | "!=" | "<" | "<=" | ">" | ">="

Type rules: a field is compared with a value of its own type (whole numbers for ``integer``
fields, at most 4 decimal places for ``number`` fields, one of the allowed values for an
``enum``); text and enums are only tested for equality; yes/no fields with ``==``/``!=``;
set fields only with ``in``, ``is_empty`` and ``has``; ``lower()`` takes a text field and is
compared with lower-case text. Anything else is a :class:`RuleError` naming the fragment, its
column and what would be accepted instead.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.segments.catalog import Catalog, FieldType, default_catalog
from connector.segments.checks import ISO_DATE, TEXTUAL, check_value, describe, example, is_a
from connector.segments.nodes import (
    And,
    Between,
    Comparison,
    Condition,
    Contains,
    Emptiness,
    FieldRef,
    IsTrue,
    Literal,
    Membership,
    Not,
    Operator,
    Or,
    Prefix,
    Relative,
    Rule,
    Value,
)
from connector.segments.syntax import GRAMMAR_HINT, RuleError, Source, parse_source

__all__ = ["FUNCTIONS", "MAX_LIST_ITEMS", "RuleError", "parse_rule"]

FUNCTIONS = ("is_empty", "has", "starts_with", "days_ago", "date", "lower")
MAX_LIST_ITEMS = 500
MAX_DAYS = 36_500
_MAX_NUMBER = Decimal(10) ** 12

_OPERATORS: dict[type[ast.cmpop], Operator] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}
_FLIPPED: dict[Operator, Operator] = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ARITHMETIC = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.LShift: "<<",
    ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
}
_NOT_ALLOWED: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda functions are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.Subscript: "subscripts ([...]) are",
    ast.Slice: "slices are",
    ast.Starred: "starred arguments (*) are",
    ast.IfExp: "if ... else is",
    ast.NamedExpr: "assignments (:=) are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Dict: "dictionaries ({...}) are",
    ast.Set: "sets ({...}) are",
}
def parse_rule(text: str, catalog: Catalog | None = None, *, segment: str | None = None) -> Rule:
    """Parse and type-check a segment rule.

    Args:
        text: the rule, e.g. ``total_spent >= 500 and country in ["FR", "BE"]``.
        catalog: the fields the rule may use; :func:`default_catalog` if omitted.
        segment: the segment's name, quoted in error messages.

    Returns:
        The checked :class:`Rule`.

    Raises:
        RuleError: the rule is not in the grammar or does not type-check; the message names the
            segment, the column, the fragment and what was expected.
    """
    tree, source = parse_source(text, segment)
    condition = _Checker(source, catalog if catalog is not None else default_catalog()).condition(tree)
    return Rule(text, condition, segment)


@dataclass(frozen=True)
class _List:
    items: tuple[tuple[Value, ast.expr], ...]


Operand = FieldRef | Value | _List


class _Checker:
    """Turns the expression tree into checked conditions, or raises a :class:`RuleError`."""

    def __init__(self, source: Source, catalog: Catalog) -> None:
        self.source = source
        self.catalog = catalog

    def fail(self, node: ast.AST | tuple[int, int] | None, problem: str, expected: str = "") -> RuleError:
        if node is None:
            return self.source.error(problem, expected=expected)
        start, end = node if isinstance(node, tuple) else self.source.span(node)
        return self.source.error(problem, start, end, expected=expected)

    def span(self, first: ast.AST, last: ast.AST) -> tuple[int, int]:
        return self.source.span(first)[0], self.source.span(last)[1]

    # ---------------------------------------------------------------- conditions

    def condition(self, node: ast.expr) -> Condition:
        if isinstance(node, ast.BoolOp):
            operands = tuple(self.condition(value) for value in node.values)
            return And(operands) if isinstance(node.op, ast.And) else Or(operands)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.BinOp):
            return self.between(node)
        if isinstance(node, ast.Call):
            return self.call_condition(node)
        if isinstance(node, ast.Tuple):
            raise self.fail(node, "conditions separated by commas are not allowed", "and / or between conditions")
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise self.fail(node, f"{node.value} alone is not a condition", "a condition that tests a field")
        operand = self.operand(node)
        if isinstance(operand, FieldRef) and operand.type is FieldType.BOOL and not operand.lower:
            return IsTrue(operand, self.source.span(node)[0])
        if isinstance(operand, FieldRef):
            raise self.fail(node, f"{is_a(operand)}, not a condition", f"a comparison, e.g. {example(operand)}")
        raise self.fail(node, "a value alone is not a condition", GRAMMAR_HINT)

    def compare(self, node: ast.Compare) -> Condition:
        operands = [node.left, *node.comparators]
        if len(node.ops) > 1:
            kinds = {type(op) for op in node.ops}
            if not (kinds <= {ast.Lt, ast.LtE} or kinds <= {ast.Gt, ast.GtE}):
                raise self.fail(node, "chained comparisons are only allowed with < and <=, or with > and >=",
                                "two comparisons joined with and, e.g. x >= 1 and x != 5")
            return And(tuple(
                self.comparison(left, _OPERATORS[type(op)], right)
                for left, op, right in zip(operands, node.ops, operands[1:], strict=False)
            ))
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(op, ast.In | ast.NotIn):
            return self.membership(node, left, right, negated=isinstance(op, ast.NotIn))
        if isinstance(op, ast.Is | ast.IsNot):
            raise self.fail(node, "'is' and 'is not' are not allowed",
                            "== or !=, or is_empty(field) and has(field) for empty fields")
        return self.comparison(left, _OPERATORS[type(op)], right)

    def comparison(self, left_node: ast.expr, op: Operator, right_node: ast.expr) -> Comparison:
        where = self.span(left_node, right_node)
        left, right = self.operand(left_node), self.operand(right_node)
        if isinstance(left, _List) or isinstance(right, _List):
            raise self.fail(where, "a list is only allowed after in", 'a membership test, e.g. country in ["FR", "BE"]')
        if isinstance(left, FieldRef) and isinstance(right, FieldRef):
            raise self.fail(where, "this compares two fields with each other",
                            "a field compared with a value, e.g. total_spent >= 500")
        if isinstance(right, FieldRef):
            left, right, op, right_node = right, left, _FLIPPED[op], left_node
        if not isinstance(left, FieldRef):
            raise self.fail(where, "this compares two values; one side must be a field", "e.g. total_spent >= 500")
        return Comparison(left, op, self.value(left, op, right, where), where[0])  # type: ignore[arg-type]

    def membership(self, node: ast.Compare, left_node: ast.expr, right_node: ast.expr, *, negated: bool) -> Condition:
        where = self.source.span(node)
        left, right = self.operand(left_node), self.operand(right_node)
        word = "not in" if negated else "in"
        if isinstance(right, _List):
            if not isinstance(left, FieldRef):
                raise self.fail(where, f"the left side of {word} [...] must be a field",
                                'a field, e.g. country in ["FR", "BE"]')
            if left.type is FieldType.SET:
                raise self.fail(where, f"{is_a(left)}; it cannot be tested against a list",
                                f'one value at a time, e.g. "T-shirt" {word} {left} or "Mug" {word} {left}')
            if not right.items:
                raise self.fail(where, "the list is empty, so this never matches", "at least one value in the list")
            values = tuple(self.value(left, "==", value, self.source.span(item)) for value, item in right.items)
            return Membership(left, values, negated, where[0])
        if isinstance(right, FieldRef) and right.type is FieldType.SET:
            if isinstance(left, Literal) and isinstance(left.value, str) and left.value:
                return Contains(right, left.value, negated, where[0])
            shown = (
                "a field" if isinstance(left, FieldRef) else "a list" if isinstance(left, _List) else describe(left)
            )
            raise self.fail(where, f"{right} holds text values, tested here with {shown}",
                            f'non-empty text in quotes, e.g. "T-shirt" {word} {right}')
        if isinstance(right, FieldRef):
            if isinstance(left, Literal) and isinstance(left.value, str) and right.type in TEXTUAL:
                hint = f"{right} {'!=' if negated else '=='} {left}"
            else:
                hint = f"a comparison, e.g. {example(right)}"
            raise self.fail(where, f"{is_a(right)}, not a set of values", hint)
        raise self.fail(where, f"{word} needs a list or a set field after it",
                        'e.g. country in ["FR", "BE"] or "T-shirt" in categories')

    def between(self, node: ast.BinOp) -> Between:
        inner = node.left
        if not isinstance(inner, ast.BinOp) or not isinstance(inner.op, ast.MatMult | ast.FloorDiv):
            raise self.reject(node)
        where = self.source.span(node)
        field = self.operand(inner.left)
        if not isinstance(field, FieldRef):
            raise self.fail(where, "between needs a field on its left", "e.g. total_spent between 100 and 500")
        ends = []
        for end_node, op in ((inner.right, ">="), (node.right, "<=")):
            end = self.operand(end_node)
            if isinstance(end, FieldRef | _List):
                raise self.fail(end_node, "the ends of between must be values", "e.g. total_spent between 100 and 500")
            ends.append(self.value(field, op, end, where))  # type: ignore[arg-type]
        low, high = ends
        if isinstance(low, Literal) and isinstance(high, Literal) and low.value > high.value:  # type: ignore[operator]
            raise self.fail(where, "the low end is above the high end, so this never matches",
                            f"{field} between {high} and {low}")
        return Between(field, low, high, isinstance(inner.op, ast.FloorDiv), where[0])

    def call_condition(self, node: ast.Call) -> Condition:
        if isinstance(node.func, ast.Name) and node.func.id == "starts_with":
            return self.prefix(node)
        name, argument = self.call(node)
        if name not in ("is_empty", "has"):
            raise self.fail(node, f"{name}(...) is a value, not a condition",
                            "a comparison, e.g. last_order_date < days_ago(90)")
        field = self.operand(argument)
        if not isinstance(field, FieldRef) or field.lower:
            raise self.fail(node, f"{name} takes a field", f"e.g. {name}(phone)")
        if field.type is FieldType.BOOL:
            raise self.fail(node, f"{is_a(field)}; it is never empty",
                            f"{field} == True or {field} == False, or not {field}")
        return Emptiness(field, name == "is_empty", self.source.span(node)[0])

    def prefix(self, node: ast.Call) -> Condition:
        """``starts_with(text-field, "prefix")``, e.g. a postal-code area."""
        example = _CALL_EXAMPLES["starts_with"]
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args) or len(node.args) != 2:
            raise self.fail(node, "starts_with takes a text field and a text prefix", f"e.g. {example}")
        field = self.operand(node.args[0])
        if not isinstance(field, FieldRef) or field.type not in (FieldType.TEXT, FieldType.ENUM):
            shown = is_a(field) if isinstance(field, FieldRef) else "the first argument is not a field"
            raise self.fail(node, f"starts_with takes a text field first; {shown}", f"e.g. {example}")
        prefix = node.args[1]
        if not (isinstance(prefix, ast.Constant) and isinstance(prefix.value, str) and prefix.value):
            raise self.fail(node, "the prefix of starts_with must be non-empty text in quotes", f"e.g. {example}")
        if field.lower and prefix.value != prefix.value.lower():
            raise self.fail(node, "lower(...) is compared with lower-case text", f'e.g. starts_with({field}, '
                            f'"{prefix.value.lower()}")')
        return Prefix(field, prefix.value, self.source.span(node)[0])

    def call(self, node: ast.Call) -> tuple[str, ast.expr]:
        """Check a call's shape: a known function, one positional argument."""
        allowed = ", ".join(FUNCTIONS)
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the rule functions can be called", f"one of {allowed}")
        name = node.func.id
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f"one of {allowed}" + (f"; did you mean {close[0]}?" if close else "")
            raise self.fail(node.func, f"unknown function {name}", hint)
        if node.keywords:
            raise self.fail(node, "keyword arguments are not allowed", f"{name}(...) with one plain argument")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail(node, "starred arguments (*) are not allowed", f"{name}(...) with one plain argument")
        if len(node.args) != 1:
            raise self.fail(node, f"{name} takes exactly one argument, not {len(node.args)}",
                            f"e.g. {_CALL_EXAMPLES[name]}")
        return name, node.args[0]

    # ---------------------------------------------------------------- operands

    def operand(self, node: ast.expr) -> Operand:
        if isinstance(node, ast.Constant):
            return self.literal(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = node.operand
            if isinstance(inner, ast.Constant) and isinstance(inner.value, int | float) and not isinstance(
                inner.value, bool
            ):
                literal = self.literal(inner)
                return Literal(-literal.value)  # type: ignore[operator]
            raise self.fail(node, "'-' is only allowed before a number", "e.g. -5")
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Call):
            return self.call_operand(node)
        if isinstance(node, ast.List | ast.Tuple):
            return self.list(node)
        raise self.reject(node)

    def literal(self, node: ast.Constant) -> Literal:
        value = node.value
        if value is None:
            raise self.fail(node, "None is not a value", _EMPTY_HINT)
        if isinstance(value, bool | str):
            return Literal(value)
        if isinstance(value, int | float):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            if not number.is_finite() or abs(number) >= _MAX_NUMBER:
                raise self.fail(node, "this number is too large", "a number below one trillion")
            return Literal(value if isinstance(value, int) else number)
        raise self.fail(node, f"{type(value).__name__} values are not allowed",
                        "text in quotes, a number, True or False")

    def name(self, node: ast.Name) -> Operand:
        name = node.id
        if name.startswith("__"):
            raise self.fail(node, f"names starting with __ are not allowed ({name})", GRAMMAR_HINT)
        field = self.catalog.get(name)
        if field is not None:
            return FieldRef(field)
        if name in ("today", "this_month"):
            return Relative(name)  # type: ignore[arg-type]
        if name == "attributes":
            raise self.fail(node, "attributes needs the name of a custom attribute",
                            "attributes.<name>, e.g. attributes.loyalty_tier")
        if name in FUNCTIONS:
            raise self.fail(node, f"{name} is a function", f"{name}(...), e.g. {_CALL_EXAMPLES[name]}")
        if name in ("true", "false"):
            raise self.fail(node, f"unknown name {name}", f"{name.capitalize()}, with a capital letter")
        if name.lower() in ("null", "none", "nil"):
            raise self.fail(node, f"{name} is not a value", _EMPTY_HINT)
        if name == "between":
            raise self.fail(node, "between goes after a field", "field between low and high, e.g. x between 1 and 5")
        close = self.catalog.suggest(name) or self.catalog.suggest(name, attributes=True)
        hint = "a field of the catalog" + (f"; did you mean {' or '.join(close)}?" if close else "")
        raise self.fail(node, f"unknown field {name}", hint)

    def attribute(self, node: ast.Attribute) -> FieldRef:
        if not (isinstance(node.value, ast.Name) and node.value.id == "attributes") or node.attr.startswith("__"):
            raise self.fail(node, f"attribute access (.{node.attr}) is not allowed",
                            "attributes.<name> for a custom attribute, and plain field names otherwise")
        full = f"attributes.{node.attr}"
        field = self.catalog.get(full)
        if field is not None:
            return FieldRef(field)
        declared = [f.name for f in self.catalog if f.is_attribute]
        if not declared:
            raise self.fail(node, f"unknown custom attribute {full}: no custom attributes are declared",
                            "the attribute declared in the config first")
        close = self.catalog.suggest(full, attributes=True)
        hint = f"did you mean {' or '.join(close)}?" if close else "one of " + ", ".join(sorted(declared)[:10])
        raise self.fail(node, f"unknown custom attribute {full}", hint)

    def call_operand(self, node: ast.Call) -> Operand:
        if isinstance(node.func, ast.Name) and node.func.id in ("is_empty", "has", "starts_with"):
            name = node.func.id
            raise self.fail(node, f"{name}(...) is a condition, not a value",
                            f"{name}(...) on its own, joined with and / or, e.g. {_CALL_EXAMPLES[name]} and ...")
        name, argument = self.call(node)
        if name in ("is_empty", "has"):
            raise self.fail(node, f"{name}(...) is a condition, not a value",
                            f"{name}(...) on its own, joined with and / or, e.g. {_CALL_EXAMPLES[name]} and ...")
        if name == "lower":
            field = self.operand(argument)
            if not isinstance(field, FieldRef) or field.lower or field.type not in (FieldType.TEXT, FieldType.ENUM):
                shown = is_a(field) if isinstance(field, FieldRef) and not field.lower else "this is not a text field"
                raise self.fail(node, f"lower() takes a text field; {shown}", 'e.g. lower(city) == "paris"')
            return FieldRef(field.field, lower=True)
        if name == "days_ago":
            days = self.operand(argument) if isinstance(argument, ast.Constant | ast.UnaryOp) else None
            number = days.value if isinstance(days, Literal) else None
            if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_DAYS:
                raise self.fail(node, f"days_ago takes a whole number of days from 0 to {MAX_DAYS}",
                                "e.g. days_ago(90)")
            return Relative("days_ago", number)
        if not isinstance(argument, ast.Constant):
            raise self.fail(node, "date takes text of the form YYYY-MM-DD", 'e.g. date("2024-01-01")')
        return Literal(self.date(argument))

    def date(self, node: ast.Constant) -> date:
        text = node.value
        if not isinstance(text, str) or not ISO_DATE.fullmatch(text):
            raise self.fail(node, "date takes text of the form YYYY-MM-DD", 'e.g. date("2024-01-01")')
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise self.fail(node, f"{text} is not a date of the calendar", 'e.g. date("2024-01-31")') from None
        if not 1900 <= value.year <= 2999:
            raise self.fail(node, f"{text} is too far in the past or future", "a date between 1900 and 2999")
        return value

    def list(self, node: ast.List | ast.Tuple) -> _List:
        if len(node.elts) > MAX_LIST_ITEMS:
            raise self.fail(node, f"the list has {len(node.elts)} values; the limit is {MAX_LIST_ITEMS}",
                            "a shorter list, or a custom attribute or tag to test instead")
        items = []
        for element in node.elts:
            value = self.operand(element)
            if isinstance(value, FieldRef | _List):
                raise self.fail(element, "a list holds values only", 'text, numbers or dates, e.g. ["FR", "BE"]')
            items.append((value, element))
        return _List(tuple(items))

    def value(self, field: FieldRef, op: Operator, value: Operand, where: tuple[int, int]) -> Value:
        """``value`` checked (and converted) for comparing with ``field`` by ``op``."""
        if isinstance(value, FieldRef | _List):  # pragma: no cover - callers check first
            raise self.fail(where, "expected a value here", GRAMMAR_HINT)
        return check_value(field, op, value, lambda problem, expected: self.fail(where, problem, expected))

    def reject(self, node: ast.AST) -> RuleError:
        """The error for a construct outside the grammar."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult | ast.FloorDiv | ast.Mod):
            return self.fail(node, "between ... and ... is a condition and cannot be used here",
                             "field between low and high, joined to other conditions with and / or")
        if isinstance(node, ast.BinOp):
            symbol = _ARITHMETIC.get(type(node.op), "")
            return self.fail(node, f"arithmetic ({symbol}) is not allowed",
                             "a field compared with a constant value, e.g. total_spent >= 500")
        if isinstance(node, ast.UnaryOp):
            return self.fail(node, "'~' and '+' are not allowed", "not to negate a condition, '-' before a number")
        for kind, what in _NOT_ALLOWED.items():
            if isinstance(node, kind):
                return self.fail(node, f"{what} not allowed", GRAMMAR_HINT)
        return self.fail(node, f"{type(node).__name__} expressions are not allowed", GRAMMAR_HINT)

_EMPTY_HINT = "is_empty(field) for empty fields, has(field) for filled ones"
_CALL_EXAMPLES = {
    "is_empty": "is_empty(phone)",
    "has": "has(phone)",
    "days_ago": "last_order_date < days_ago(90)",
    "date": 'signup_date >= date("2024-01-01")',
    "lower": 'lower(city) == "paris"',
    "starts_with": 'starts_with(postal_code, "75")',
}
