"""Does a GraphQL response conform to the Shopify contract? A checker for tests and benches.

It re-validates the query against the schema, then walks ``data`` along the query's selection:
every selected key is present and no other, non-null values are never null, lists are lists,
objects are objects, enums take one of their values and scalars have Shopify's wire format
(``DateTime`` ISO 8601 with ``Z``, ``Decimal``/``Money`` a decimal string, ``UnsignedInt64`` a
digit string, ``ID`` a string). Top-level ``errors`` and ``extensions.cost`` are checked for shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
    validate,
)

__all__ = ["conformance_problems"]

_FORMATS: dict[str, re.Pattern[str]] = {
    "DateTime": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"),
    "Date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "Decimal": re.compile(r"^-?\d+\.\d+$"),
    "Money": re.compile(r"^-?\d+\.\d+$"),
    "UnsignedInt64": re.compile(r"^\d+$"),
    "URL": re.compile(r"^https?://\S+$"),
    "ID": re.compile(r"^gid://shopify/\w+/\d+(\?\S*)?$"),
}


def conformance_problems(schema: GraphQLSchema, query: str, body: Mapping[str, Any],
                         operation_name: str | None = None) -> list[str]:
    """Every way ``body`` (a parsed response) departs from what ``query`` must return; [] if none."""
    document = parse(query)
    invalid = validate(schema, document)
    if invalid:
        return [f"query invalid: {e.message}" for e in invalid]
    problems = _envelope_problems(body)
    operation = get_operation_ast(document, operation_name)
    data = body.get("data")
    if operation is None or data is None:
        return problems
    root = schema.mutation_type if operation.operation is OperationType.MUTATION else schema.query_type
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    assert root is not None  # noqa: S101
    _check_object(root, operation.selection_set, data, "data", schema, fragments, problems)
    return problems


def _envelope_problems(body: Mapping[str, Any]) -> list[str]:
    problems = [f"unexpected top-level key {k!r}" for k in body if k not in ("data", "errors", "extensions")]
    if "errors" not in body and "data" not in body:
        problems.append("neither data nor errors")
    for error in body.get("errors") or ():
        if not isinstance(error, Mapping) or not isinstance(error.get("message"), str):
            problems.append(f"malformed error {error!r}")
            continue
        for loc in error.get("locations") or ():
            if not (isinstance(loc.get("line"), int) and isinstance(loc.get("column"), int)):
                problems.append(f"malformed location {loc!r}")
        if "extensions" in error and not isinstance(error["extensions"], Mapping):
            problems.append("error extensions is not an object")
    cost = (body.get("extensions") or {}).get("cost")
    if cost is not None:
        status = cost.get("throttleStatus") or {}
        if not isinstance(cost.get("requestedQueryCost"), int):
            problems.append("requestedQueryCost is not an int")
        if cost.get("actualQueryCost") is not None and not isinstance(cost["actualQueryCost"], int):
            problems.append("actualQueryCost is not an int or null")
        for key in ("maximumAvailable", "currentlyAvailable", "restoreRate"):
            if not isinstance(status.get(key), int | float):
                problems.append(f"throttleStatus.{key} is not a number")
    return problems


def _fields(selection: SelectionSetNode | None, type_name: str, schema: GraphQLSchema,
            fragments: Mapping[str, FragmentDefinitionNode]) -> list[FieldNode]:
    """The fields selected on an object of type ``type_name`` (fragments applied by type condition)."""
    found: list[FieldNode] = []
    object_type = schema.get_type(type_name)
    interfaces = {i.name for i in object_type.interfaces} if isinstance(object_type, GraphQLObjectType) else set()
    for node in selection.selections if selection else ():
        if isinstance(node, FieldNode):
            found.append(node)
            continue
        if isinstance(node, InlineFragmentNode):
            condition, inner = node.type_condition, node.selection_set
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            fragment = fragments[node.name.value]
            condition, inner = fragment.type_condition, fragment.selection_set
        else:
            continue
        if condition is None or condition.name.value == type_name or condition.name.value in interfaces:
            found.extend(_fields(inner, type_name, schema, fragments))
    return found


def _check_object(type_: GraphQLObjectType, selection: SelectionSetNode | None, value: Any, path: str,
                  schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected an object, got {type(value).__name__}")
        return
    expected: dict[str, FieldNode] = {}
    for node in _fields(selection, type_.name, schema, fragments):
        expected.setdefault(node.alias.value if node.alias else node.name.value, node)
    for key in value:
        if key not in expected:
            problems.append(f"{path}.{key}: not selected")
    for key, node in expected.items():
        if key not in value:
            problems.append(f"{path}.{key}: missing")
        elif node.name.value == "__typename":
            if value[key] != type_.name:
                problems.append(f"{path}.{key}: {value[key]!r} is not {type_.name}")
        else:
            field_def = type_.fields.get(node.name.value)
            if field_def is None:
                problems.append(f"{path}.{key}: no such field on {type_.name}")
            else:
                _check_value(field_def.type, node, value[key], f"{path}.{key}", schema, fragments, problems)


def _check_value(type_: GraphQLOutputType, node: FieldNode, value: Any, path: str, schema: GraphQLSchema,
                 fragments: Mapping[str, FragmentDefinitionNode], problems: list[str]) -> None:
    if isinstance(type_, GraphQLNonNull):
        if value is None:
            problems.append(f"{path}: null for non-null {type_}")
            return
        type_ = type_.of_type
    if value is None:
        return
    if isinstance(type_, GraphQLList):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            _check_value(type_.of_type, node, item, f"{path}[{i}]", schema, fragments, problems)
    elif isinstance(type_, GraphQLScalarType):
        problem = _scalar_problem(type_.name, value)
        if problem:
            problems.append(f"{path}: {problem}")
    elif isinstance(type_, GraphQLEnumType):
        if value not in type_.values:
            problems.append(f"{path}: {value!r} is not a {type_.name}")
    elif isinstance(type_, GraphQLObjectType):
        _check_object(type_, node.selection_set, value, path, schema, fragments, problems)
    elif isinstance(value, Mapping) and isinstance(value.get("__typename"), str):
        concrete = schema.get_type(value["__typename"])
        if isinstance(concrete, GraphQLObjectType):
            _check_object(concrete, node.selection_set, value, path, schema, fragments, problems)
    elif not isinstance(value, Mapping):
        problems.append(f"{path}: expected an object for {type_}")


def _scalar_problem(name: str, value: Any) -> str | None:
    if name == "Boolean":
        return None if isinstance(value, bool) else f"{value!r} is not a Boolean"
    if name == "Int":
        return None if isinstance(value, int) and not isinstance(value, bool) else f"{value!r} is not an Int"
    if name == "Float":
        return None if isinstance(value, int | float) and not isinstance(value, bool) else f"{value!r} is not a Float"
    if name == "JSON":
        return None
    if not isinstance(value, str):
        return f"{value!r} is not a string ({name})"
    pattern = _FORMATS.get(name)
    if pattern is not None and not pattern.match(value):
        return f"{value!r} is not a well-formed {name}"
    return None
