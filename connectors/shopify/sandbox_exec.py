"""A lean executor for bulk results: the same resolvers, without graphql-core's per-field machinery.

A bulk result runs one already-validated query over every record of a shop, so graphql-core's
general execution (resolve-info objects, argument coercion and output checks on every field of
every record) costs several times the resolvers themselves. This executor plans each selection
once per type (fields, arguments, return types) and then only resolves and completes values. It
gives graphql-core's exact output for the queries bulk operations accept (tests compare the two);
any resolver error aborts the pass, which fails the bulk job as Shopify would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import get_argument_values

from connectors.shopify.sandbox_context import Context
from connectors.shopify.sandbox_resolvers import resolve, type_resolver

__all__ = ["LeanExecutor"]


@dataclass(frozen=True)
class _Field:
    key: str
    name: str
    type: GraphQLOutputType
    args: dict[str, Any]
    selection: SelectionSetNode | None


class LeanExecutor:
    """Executes one query operation repeatedly (once per root page) with precomputed plans."""

    def __init__(self, operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode],
                 ctx: Context) -> None:
        self.operation = operation
        self.fragments = fragments
        self.schema = ctx.schema
        self._plans: dict[tuple[str, int], list[_Field]] = {}

    def run(self, ctx: Context) -> dict[str, Any]:
        """``data`` for the operation in ``ctx``.

        Raises:
            GraphQLError: a resolver refused (e.g. ACCESS_DENIED) or a non-null field had no value.
        """
        root = self.schema.query_type
        assert root is not None  # noqa: S101 - the Admin schema has a query root
        return self._object(root, self.operation.selection_set, None, ctx)

    def _plan(self, type_: GraphQLObjectType, selection: SelectionSetNode) -> list[_Field]:
        cache_key = (type_.name, id(selection))
        plan = self._plans.get(cache_key)
        if plan is None:
            plan, seen = [], set()
            for node in self._collect(type_, selection):
                key = node.alias.value if node.alias else node.name.value
                if key in seen:
                    continue
                seen.add(key)
                if node.name.value == "__typename":
                    plan.append(_Field(key, "__typename", type_, {}, None))
                    continue
                field_def = type_.fields[node.name.value]
                args = get_argument_values(field_def, node, {})
                plan.append(_Field(key, node.name.value, field_def.type, args, node.selection_set))
            self._plans[cache_key] = plan
        return plan

    def _collect(self, type_: GraphQLObjectType, selection: SelectionSetNode) -> list[FieldNode]:
        interfaces = {i.name for i in type_.interfaces}
        found: list[FieldNode] = []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                found.append(node)
                continue
            if isinstance(node, InlineFragmentNode):
                condition, inner = node.type_condition, node.selection_set
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                continue
            if condition is None or condition.name.value == type_.name or condition.name.value in interfaces:
                found.extend(self._collect(type_, inner))
        return found

    def _object(self, type_: GraphQLObjectType, selection: SelectionSetNode | None, source: Any,
                ctx: Context) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if selection is None:
            return out
        for field in self._plan(type_, selection):
            if field.name == "__typename":
                out[field.key] = type_.name
                continue
            value = resolve(source, ctx, type_.name, field.name, field.type, dict(field.args))
            out[field.key] = self._complete(field, field.type, value, ctx)
        return out

    def _complete(self, field: _Field, type_: GraphQLOutputType, value: Any, ctx: Context) -> Any:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                raise GraphQLError(f"Cannot return null for non-nullable field {field.name}.")
            type_ = type_.of_type
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            return [self._complete(field, type_.of_type, item, ctx) for item in value]
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return type_.serialize(value)
        if isinstance(type_, GraphQLObjectType):
            return self._object(type_, field.selection, value, ctx)
        concrete = self.schema.get_type(type_resolver(value) or "")
        if not isinstance(concrete, GraphQLObjectType):
            raise GraphQLError(f"sandbox: no concrete type for a {type_} value")
        return self._object(concrete, field.selection, value, ctx)
