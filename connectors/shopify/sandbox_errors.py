"""Shopify's error answers, word for word where the wording is known.

* Invalid documents: HTTP 200, top-level ``errors`` with ``locations`` and a graphql-ruby style
  ``extensions.code`` (``undefinedField``, ``argumentNotAccepted``, ...), and no ``data``.
* Bad connection arguments (no ``first``/``last``, both, or a page over 250): ``errors`` with the
  field's ``path``, ``data: null``, and the cost still reported.
* ``MAX_COST_EXCEEDED`` and ``THROTTLED``: the bodies Shopify's own client libraries test against.
* ``ACCESS_DENIED``: raised from the field's resolver, so the error carries its ``path`` and the
  field (and whatever non-null ancestors it has) comes back null, as on Shopify.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphql import FieldNode, GraphQLError, GraphQLObjectType, SelectionSetNode, get_named_type
from graphql.execution.values import get_argument_values

from connectors.shopify.sandbox_cost import MAX_QUERY_COST, Walk, iter_fields
from connectors.shopify.sandbox_paging import MAX_PAGE
from connectors.shopify.sandbox_schema import is_connection

__all__ = [
    "access_denied",
    "check_connection_arguments",
    "error",
    "max_cost_body",
    "shopify_validation_error",
    "throttled_body",
]

RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
SCOPE_DOCS = "https://shopify.dev/api/usage/access-scopes"

# graphql-core's wording -> the code graphql-ruby (Shopify's engine) gives the same mistake.
_VALIDATION_CODES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), code)
    for p, code in (
        (r"^Syntax Error", "parseError"),
        (r"^Cannot query field", "undefinedField"),
        (r"^Unknown argument", "argumentNotAccepted"),
        (r"argument .* is required", "missingRequiredArguments"),
        (r"^Expected value of type|cannot represent", "argumentLiteralsIncompatible"),
        (r"^Variable .* is never used", "variableNotUsed"),
        (r"^Variable .* is not defined", "undefinedVariable"),
        (r"^Unknown type", "undefinedType"),
        (r"^Unknown fragment", "undefinedFragment"),
        (r"must have a selection of subfields|must not have a selection", "selectionMismatch"),
        (r"^Fragment .* is never used", "useAndDefineFragment"),
    )
]


def error(message: str, *, code: str | None = None, path: list[str | int] | None = None,
          node: FieldNode | None = None, **extensions: Any) -> dict[str, Any]:
    """One entry of a top-level ``errors`` list."""
    entry: dict[str, Any] = {"message": message}
    if node is not None and node.loc is not None:
        entry["locations"] = [{"line": node.loc.source.get_location(node.loc.start).line,
                               "column": node.loc.source.get_location(node.loc.start).column}]
    if path is not None:
        entry["path"] = path
    if code is not None or extensions:
        entry["extensions"] = {**({"code": code} if code else {}), **extensions}
    return entry


def shopify_validation_error(exc: GraphQLError) -> dict[str, Any]:
    """A parse or validation error in Shopify's shape."""
    formatted: dict[str, Any] = {"message": exc.message}
    if exc.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in exc.locations]
    code = next((c for pattern, c in _VALIDATION_CODES if pattern.search(exc.message)), "validationError")
    formatted["extensions"] = {"code": code}
    return formatted


def check_connection_arguments(root: GraphQLObjectType, selection_set: SelectionSetNode, walk: Walk,
                               path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Shopify's refusals of connection arguments, for every connection in a (non-bulk) query."""
    problems: list[dict[str, Any]] = []
    for _, node in iter_fields(walk, selection_set):
        field_def = root.fields.get(node.name.value)
        if field_def is None:
            continue
        key = node.alias.value if node.alias else node.name.value
        named = get_named_type(field_def.type)
        if is_connection(named):
            args = get_argument_values(field_def, node, dict(walk.variables))
            first, last = args.get("first"), args.get("last")
            where = [*path, key]
            if first is None and last is None:
                problems.append(error("you must provide one of first or last", code="BAD_REQUEST", path=where,
                                      node=node))
            elif first is not None and last is not None:
                problems.append(error("providing both first and last is not supported", code="BAD_REQUEST",
                                      path=where, node=node))
            for name, size in (("first", first), ("last", last)):
                if size is not None and not 0 <= size <= MAX_PAGE:
                    problems.append(error(
                        f"Argument '{name}' on Field '{node.name.value}' has an invalid value ({size}). "
                        f"Expected a page size from 0 to {MAX_PAGE}.",
                        code="argumentLiteralsIncompatible", path=where, node=node))
        if isinstance(named, GraphQLObjectType) and node.selection_set is not None:
            problems.extend(check_connection_arguments(named, node.selection_set, walk, (*path, key)))
    return problems


def access_denied(node_name: str, required: str) -> GraphQLError:
    """The error a resolver raises for a field the app's scopes do not cover."""
    return GraphQLError(
        f"Access denied for {node_name} field. Required access: {required}",
        extensions={"code": "ACCESS_DENIED", "documentation": SCOPE_DOCS, "requiredAccess": required},
    )


def max_cost_body(cost: int) -> dict[str, Any]:
    """The answer to a query whose requested cost is over the single-query limit."""
    message = (
        f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
    )
    return {"errors": [error(message, code="MAX_COST_EXCEEDED", cost=cost, maxCost=MAX_QUERY_COST,
                             documentation=RATE_LIMIT_DOCS)]}


def throttled_body(cost: Mapping[str, Any]) -> dict[str, Any]:
    """The answer when the bucket cannot cover the requested cost (HTTP 200, as on Shopify)."""
    return {"errors": [error("Throttled", code="THROTTLED", documentation=RATE_LIMIT_DOCS)],
            "extensions": {"cost": dict(cost)}}
