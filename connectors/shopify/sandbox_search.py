"""Shopify's search syntax (the ``query:`` argument), as far as the sandbox needs it.

Supported: ``field:value`` terms joined by spaces or ``AND``, comparators ``> >= < <= =`` on
``created_at``, ``updated_at``, ``processed_at`` and ``id``, quoted values (``'...'`` or
``"..."``), and ``email``, ``customer_id``, ``status`` (carts: open/closed), ``test``. Time values
are ISO 8601 (a missing offset means UTC), a date (its whole day for ``:``), a year, or ``now``.

As on Shopify, a field the connection does not list is ignored and reported in
``extensions.search`` with "Invalid search field for this query."; the list comes from the
schema's own description of each ``query`` argument. Listed fields the sandbox does not model,
free text, ``OR`` and negation are ignored the same way, with a warning that says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLField

from connectors.shopify.sandbox_schema import parse_gid

__all__ = ["Bound", "SearchFilter", "parse_search", "search_fields"]

_TERM = re.compile(r"""(?P<neg>-)?(?P<field>[a-z_]+):(?P<op>>=|<=|>|<|=)?(?P<value>'[^']*'|"[^"]*"|[^\s()]+)""")
_WORD = re.compile(r"""'[^']*'|"[^"]*"|\S+""")
_ROW = re.compile(r"^\| (\w+) \|", re.MULTILINE)
_TIME_FIELDS = {"created_at", "updated_at", "processed_at"}
_ONE_MICROSECOND = timedelta(microseconds=1)
INVALID_FIELD = "Invalid search field for this query."


@dataclass(frozen=True)
class Bound:
    """An interval on one field; None ends are open."""

    lo: Any = None
    lo_inclusive: bool = True
    hi: Any = None
    hi_inclusive: bool = True

    def contains(self, value: Any) -> bool:
        if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_inclusive)):
            return False
        return not (self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_inclusive)))

    def meet(self, other: Bound) -> Bound:
        """The intersection of two intervals."""
        result = self
        if other.lo is not None and (
            result.lo is None or other.lo > result.lo or (other.lo == result.lo and not other.lo_inclusive)
        ):
            result = replace(result, lo=other.lo, lo_inclusive=other.lo_inclusive)
        if other.hi is not None and (
            result.hi is None or other.hi < result.hi or (other.hi == result.hi and not other.hi_inclusive)
        ):
            result = replace(result, hi=other.hi, hi_inclusive=other.hi_inclusive)
        return result


@dataclass
class SearchFilter:
    """A parsed ``query:``: interval bounds per field, other predicates, and warnings."""

    query: str | None = None
    bounds: dict[str, Bound] = field(default_factory=dict)
    predicates: list[Callable[[Any], bool]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def matches(self, record: Any) -> bool:
        """Whether a record passes every term."""
        for name, bound in self.bounds.items():
            value = record.key if name == "id" else getattr(record, name, None)
            if value is None or not bound.contains(value):
                return False
        return all(predicate(record) for predicate in self.predicates)

    def updated_window(self) -> tuple[datetime | None, datetime | None]:
        """The ``updated_at`` bounds as the strict ones ``ShopState.scan`` takes.

        Timestamps have microsecond resolution, so ">= t" is exactly "> t - 1 µs".
        """
        bound = self.bounds.get("updated_at")
        if bound is None:
            return None, None
        after = bound.lo if bound.lo is None or not bound.lo_inclusive else bound.lo - _ONE_MICROSECOND
        before = bound.hi if bound.hi is None or not bound.hi_inclusive else bound.hi + _ONE_MICROSECOND
        return after, before


def search_fields(field_def: GraphQLField) -> frozenset[str]:
    """The filter names a connection's ``query`` argument documents (its description's table)."""
    argument = field_def.args.get("query")
    if argument is None or not argument.description:
        return frozenset()
    table = argument.description.split("| ---- |", 1)[-1]
    return frozenset(_ROW.findall(table))


def parse_search(query: str | None, *, listed: frozenset[str], kind: str, now: datetime) -> SearchFilter:
    """Parse a ``query:`` string for a connection over ``kind`` (customers, orders or carts)."""
    result = SearchFilter(query=query)
    text = (query or "").strip()
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        term = _TERM.match(text, pos)
        if term is None:
            word = _WORD.match(text, pos)
            assert word is not None  # noqa: S101 - \S+ matches any non-space character
            pos = word.end()
            text_term = word.group(0)
            if text_term != "AND":
                result.warnings.append({"field": "default", "message": f"sandbox: {text_term!r} ignored "
                                        "(free text, OR, NOT and parentheses are not modelled)"})
            continue
        pos = term.end()
        _apply_term(result, term, listed=listed, kind=kind, now=now)
    return result


def _apply_term(result: SearchFilter, term: re.Match[str], *, listed: frozenset[str], kind: str,
                now: datetime) -> None:
    name, op, raw = term.group("field"), term.group("op") or "=", term.group("value")
    value = raw[1:-1] if raw[:1] in "'\"" and raw[-1:] == raw[:1] and len(raw) >= 2 else raw
    if name not in listed:
        result.warnings.append({"field": name, "message": INVALID_FIELD})
        return
    if term.group("neg"):
        result.warnings.append({"field": name, "message": "sandbox: negated terms are not modelled; ignored"})
        return
    if name in _TIME_FIELDS:
        window = _time_bound(value, op, now)
        if window is None:
            result.warnings.append({"field": name, "message": f"Invalid timestamp for query filter `{name}`."})
            return
        result.bounds[name] = result.bounds.get(name, Bound()).meet(window)
    elif name in ("id", "customer_id"):
        parsed = parse_gid(value)
        number = parsed[1] if parsed else (int(value) if value.isdigit() else None)
        if number is None:
            result.warnings.append({"field": name, "message": f"Invalid id for query filter `{name}`."})
        elif name == "id":
            result.bounds["id"] = result.bounds.get("id", Bound()).meet(_compare(number, op))
        else:
            result.predicates.append(lambda r, n=number: getattr(r, "customer_key", None) == n)
    elif name == "email":
        wanted = value.strip().lower()
        result.predicates.append(
            (lambda r: bool(r.email)) if wanted == "*" else (lambda r, w=wanted: (r.email or "").strip().lower() == w)
        )
    elif name == "status" and kind == "carts" and value in ("open", "closed"):
        result.predicates.append(lambda r, closed=value == "closed": (r.completed_at is not None) == closed)
    elif name == "test" and kind == "orders" and value in ("true", "false"):
        result.predicates.append(lambda r, t=value == "true": r.test == t)
    else:
        result.warnings.append({"field": name, "message": "sandbox: this filter is not modelled; ignored"})


def _compare(value: Any, op: str, until: Any = None) -> Bound:
    """The interval ``op value``; for ``=`` with a coarse value, ``[value, until)``."""
    if op == ">":
        return Bound(lo=value, lo_inclusive=False)
    if op == ">=":
        return Bound(lo=value)
    if op == "<":
        return Bound(hi=value, hi_inclusive=False)
    if op == "<=":
        return Bound(hi=value)
    if until is not None:
        return Bound(lo=value, hi=until, hi_inclusive=False)
    return Bound(lo=value, hi=value)


def _time_bound(value: str, op: str, now: datetime) -> Bound | None:
    if value == "now":
        return _compare(now, op)
    if re.fullmatch(r"\d{4}", value):
        start = datetime(int(value), 1, 1, tzinfo=UTC)
        return _compare(start, op, datetime(int(value) + 1, 1, 1, tzinfo=UTC))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # a date: "updated_at:2024-01-01" is that whole day
        return _compare(moment, op, moment + timedelta(days=1))
    return _compare(moment.astimezone(UTC), op)
