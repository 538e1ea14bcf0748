"""The collection parameters of ``/customers`` and ``/orders``, validated and sanitized as WordPress does.

Each endpoint's parameters are rows of a table (:data:`CUSTOMER_PARAMS`, :data:`ORDER_PARAMS`) in
the order WooCommerce registers them, which is the order WordPress reports invalid ones in.
:func:`read_params` checks every row (``rest_validate_request_arg``), then sanitizes (``absint``,
``wp_parse_id_list``, booleans), and returns both the typed values and the query parameters as
the request holds them afterwards (what pagination links are built from). Unknown parameters are
ignored, as WordPress ignores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from connectors.woocommerce.sandbox_wp import PHPArray, WPParamError, php_list

__all__ = ["CUSTOMER_PARAMS", "ORDER_PARAMS", "ORDER_STATUSES", "ParamSpec", "Params", "parse_wp_date",
           "read_params"]

ParamKind = Literal["integer", "absint", "string", "boolean", "date-time", "email", "enum", "id-list", "enum-list"]
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
                  "checkout-draft")
ROLES = ("all", "administrator", "editor", "author", "contributor", "subscriber", "customer", "shop_manager")
_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_WP_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::\d{2})?)?")
_EMAIL_LOCAL = re.compile(r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]+")
_EMAIL_LABEL = re.compile(r"[a-z0-9-]+", re.IGNORECASE)


@dataclass(frozen=True)
class ParamSpec:
    """One registered argument of a route."""

    name: str
    kind: ParamKind
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None


_CONTEXT = ParamSpec("context", "enum", ("view", "edit"), default="view")
_PAGE = ParamSpec("page", "absint", minimum=1, default=1)
_PER_PAGE = ParamSpec("per_page", "absint", minimum=1, maximum=100, default=10)

CUSTOMER_PARAMS: tuple[ParamSpec, ...] = (
    _CONTEXT, _PAGE, _PER_PAGE,
    ParamSpec("search", "string"),
    ParamSpec("exclude", "id-list", default=()),
    ParamSpec("include", "id-list", default=()),
    ParamSpec("offset", "absint"),
    ParamSpec("order", "enum", ("asc", "desc"), default="asc"),
    ParamSpec("orderby", "enum", ("id", "include", "name", "registered_date"), default="name"),
    ParamSpec("email", "email"),
    ParamSpec("role", "enum", ROLES, default="customer"),
)

ORDER_PARAMS: tuple[ParamSpec, ...] = (
    _CONTEXT, _PAGE, _PER_PAGE,
    ParamSpec("search", "string"),
    ParamSpec("after", "date-time"),
    ParamSpec("before", "date-time"),
    ParamSpec("modified_after", "date-time"),
    ParamSpec("modified_before", "date-time"),
    ParamSpec("dates_are_gmt", "boolean", default=False),
    ParamSpec("exclude", "id-list", default=()),
    ParamSpec("include", "id-list", default=()),
    ParamSpec("offset", "absint"),
    ParamSpec("order", "enum", ("asc", "desc"), default="desc"),
    ParamSpec("orderby", "enum", ("date", "id", "include", "title", "slug", "modified"), default="date"),
    ParamSpec("parent", "id-list", default=()),
    ParamSpec("parent_exclude", "id-list", default=()),
    ParamSpec("status", "enum-list", ("any", "trash", *ORDER_STATUSES), default=("any",)),
    ParamSpec("customer", "integer"),
    ParamSpec("product", "integer"),
    ParamSpec("dp", "absint", default=2),
)


@dataclass(frozen=True)
class Params:
    """A request's parameters after validation.

    Attributes:
        values: every registered parameter, typed (defaults for absent ones).
        given: the registered parameters the request set.
        query: the query parameters as WordPress holds them after sanitizing (for pagination links).
    """

    values: dict[str, Any]
    given: frozenset[str]
    query: PHPArray


def read_params(raw: PHPArray, specs: tuple[ParamSpec, ...]) -> Params | list[WPParamError]:
    """Validate ``raw`` (PHP-parsed query parameters) against ``specs``; the errors, or the parameters."""
    errors: list[WPParamError] = []
    values: dict[str, Any] = {}
    query = dict(raw)
    for spec in specs:
        if spec.name not in raw:
            values[spec.name] = spec.default
            continue
        value = raw[spec.name]
        error = _validate(spec, value)
        if error is not None:
            errors.append(error)
            continue
        values[spec.name], query[spec.name] = _sanitize(spec, value)
    if errors:
        return errors
    return Params(values, frozenset(s.name for s in specs if s.name in raw), query)


def _validate(spec: ParamSpec, value: Any) -> WPParamError | None:
    name = spec.name
    if spec.kind in ("id-list", "enum-list"):
        for i, item in enumerate(php_list(value)):
            problem = _validate(ParamSpec(f"{name}[{i}]", "integer" if spec.kind == "id-list" else "enum", spec.enum),
                                item)
            if problem is not None:
                return WPParamError(name, problem.code, problem.message)
        return None
    if isinstance(value, dict):
        wanted = {"absint": "integer", "date-time": "string", "email": "string", "enum": "string"}
        return WPParamError(name, "rest_invalid_type", f"{name} is not of type {wanted.get(spec.kind, spec.kind)}.")
    if spec.kind in ("integer", "absint"):
        if not _NUMERIC.fullmatch(value) or float(value) != int(float(value)):
            return WPParamError(name, "rest_invalid_type", f"{name} is not of type integer.")
        number = int(float(value))
        low, high = spec.minimum, spec.maximum
        if low is not None and high is not None and not low <= number <= high:
            return WPParamError(name, "rest_out_of_bounds",
                                f"{name} must be between {low} (inclusive) and {high} (inclusive)")
        if low is not None and high is None and number < low:
            return WPParamError(name, "rest_out_of_bounds", f"{name} must be greater than or equal to {low}")
    elif spec.kind == "boolean":
        if value.lower() not in ("true", "false", "1", "0"):
            return WPParamError(name, "rest_invalid_type", f"{name} is not of type boolean.")
    elif spec.kind == "enum":
        if value not in spec.enum:
            return WPParamError(name, "rest_not_in_enum", f"{name} is not one of {_wp_list(spec.enum)}.")
    elif spec.kind == "date-time":
        if parse_wp_date(value) is None:
            return WPParamError(name, "rest_invalid_date", "Invalid date.")
    elif spec.kind == "email" and not _is_email(value):
        return WPParamError(name, "rest_invalid_email", "Invalid email address.")
    return None


def _sanitize(spec: ParamSpec, value: Any) -> tuple[Any, Any]:
    """(typed value, value as the request holds it afterwards)."""
    if spec.kind == "absint":
        number = abs(int(float(value)))
        return number, number
    if spec.kind == "integer":
        number = int(float(value))
        return number, number
    if spec.kind == "boolean":
        flag = value.lower() in ("true", "1")
        return flag, flag
    if spec.kind == "id-list":  # wp_parse_id_list: absint, then array_unique (which keeps the first keys)
        kept: dict[int, int] = {}
        for i, item in enumerate(php_list(value)):
            number = abs(int(float(item)))
            if number not in kept.values():
                kept[i] = number
        return tuple(kept.values()), kept
    if spec.kind == "enum-list":
        items = php_list(value)
        return tuple(items), dict(enumerate(items))
    if spec.kind == "string":
        text = " ".join(str(value).split())
        return text, text
    return value, value


def _wp_list(items: tuple[str, ...]) -> str:
    """``wp_sprintf``'s ``%l``: "a", "a and b", "a, b, and c"."""
    if len(items) < 3:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def parse_wp_date(value: str) -> tuple[datetime, bool] | None:
    """A ``date-time`` parameter: (the time, whether it named its offset); None when WordPress rejects it.

    WordPress takes ``YYYY-MM-DD[T ]HH:MM:SS`` with optional fraction and ``Z``/``±HH[:MM]`` offset,
    and compares whole seconds, so the fraction is dropped.
    """
    match = _WP_DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    zone = match.group(7)
    if zone is None:
        return when, False
    offset = "+00:00" if zone == "Z" else zone if len(zone) == 6 else f"{zone}:00"
    try:
        return datetime.fromisoformat(when.isoformat() + offset), True
    except ValueError:
        return None


def _is_email(value: str) -> bool:
    """WordPress's ``is_email``, the check behind the ``email`` format."""
    if len(value) < 6 or value.count("@") < 1 or value.startswith("@"):
        return False
    local, _, domain = value.partition("@")
    if not _EMAIL_LOCAL.fullmatch(local) or ".." in domain or domain.strip(" \t\n\r\0\x0B.") != domain:
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    return all(label.strip(" \t\n\r\0\x0B-") == label and _EMAIL_LABEL.fullmatch(label) for label in labels)
