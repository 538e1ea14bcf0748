"""Shopify's calculated query cost and its leaky bucket.

Cost rules (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits, "Cost calculation"):
scalars and enums cost 0, objects 1, a connection 2 plus its page size (``first`` or ``last``)
times the cost of one node, a mutation field 10. Interfaces and unions cost the most expensive of
their possible selections. The *requested* cost is computed statically before execution; the
*actual* cost the same way over what was returned (fewer nodes, null objects), and the difference
is refunded to the bucket. Details the docs leave open, chosen here: ``pageInfo`` and the edge
wrappers are part of the connection's 2; a plain list of objects costs one element times its
``first`` argument (1 when absent).

The bucket is per app and shop. Restore rates are the documented ones per plan; the bucket sizes
are 20 seconds of restore, which is what every published (size, rate) pair of Shopify has been
(1,000 @ 50/s, 2,000 @ 100/s) and what ``throttleStatus.maximumAvailable`` reports on current
stores, unverified for Plus and Enterprise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values

from connector.clock import Clock
from connectors.shopify.sandbox_schema import is_connection

__all__ = ["MAX_QUERY_COST", "PLANS", "LeakyBucket", "Plan", "Walk", "actual_cost", "iter_fields", "requested_cost"]

Plan = Literal["standard", "advanced", "plus", "enterprise"]
# plan -> (bucket size, restore rate in points per second)
PLANS: Mapping[str, tuple[float, float]] = {
    "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0),
    "plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
}
MAX_QUERY_COST = 1000
MUTATION_COST = 10


class LeakyBucket:
    """Points available to one app on one shop, refilling continuously on the injected clock."""

    def __init__(self, size: float, restore_rate: float, clock: Clock) -> None:
        self.size = size
        self.restore_rate = restore_rate
        self._clock = clock
        self._available = size
        self._at = clock.monotonic()

    def available(self) -> float:
        now = self._clock.monotonic()
        self._available = min(self.size, self._available + (now - self._at) * self.restore_rate)
        self._at = now
        return self._available

    def take(self, points: float) -> bool:
        """Take ``points`` if that many are available; False (and nothing taken) otherwise."""
        if points > self.available():
            return False
        self._available -= points
        return True

    def refund(self, points: float) -> None:
        self._available = min(self.size, self.available() + max(0.0, points))

    def status(self) -> dict[str, float]:
        return {"maximumAvailable": self.size, "currentlyAvailable": round(self.available(), 1),
                "restoreRate": self.restore_rate}


@dataclass(frozen=True)
class Walk:
    """What walking an operation's selections needs besides the selections."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]


def iter_fields(walk: Walk, selection_set: SelectionSetNode | None) -> Iterable[tuple[str | None, FieldNode]]:
    """Every field of a selection set with the type condition it sits under (fragments inlined)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield None, selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            for inner_condition, node in iter_fields(walk, selection.selection_set):
                yield inner_condition or condition, node
        elif isinstance(selection, FragmentSpreadNode):
            fragment = walk.fragments.get(selection.name.value)
            if fragment is not None:
                for inner_condition, node in iter_fields(walk, fragment.selection_set):
                    yield inner_condition or fragment.type_condition.name.value, node


def _object_types(walk: Walk, type_: GraphQLNamedType) -> list[GraphQLObjectType]:
    if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
        return list(walk.schema.get_possible_types(type_))
    return [type_] if isinstance(type_, GraphQLObjectType) else []


def _selection_cost(walk: Walk, selection_set: SelectionSetNode | None, type_: GraphQLNamedType,
                    value: Any = None, actual: bool = False) -> int:
    """Cost of a selection on ``type_``: the most expensive of its possible object types."""
    costs = [0]
    for object_type in _object_types(walk, type_):
        total = 0
        for condition, node in iter_fields(walk, selection_set):
            applies = condition in (None, object_type.name, type_.name) or condition in {
                i.name for i in object_type.interfaces}
            if not applies:
                continue
            field_def = object_type.fields.get(node.name.value)
            if field_def is None:  # __typename and friends
                continue
            key = node.alias.value if node.alias else node.name.value
            child = value.get(key) if actual and isinstance(value, Mapping) else None
            total += _field_cost(walk, node, field_def, child, actual)
        costs.append(total)
    return max(costs)


def _field_cost(walk: Walk, node: FieldNode, field_def: Any, value: Any, actual: bool) -> int:
    named = get_named_type(field_def.type)
    if is_leaf_type(named):
        return 0
    if actual and value is None:
        return 0
    args = get_argument_values(field_def, node, dict(walk.variables))
    if is_connection(named):
        node_type = get_named_type(named.fields["edges"].type).fields["node"].type if "edges" in named.fields \
            else named.fields["nodes"].type
        node_named = get_named_type(node_type)
        if actual:
            return 2 + _connection_actual(walk, node, node_named, value)
        size = args.get("first") if args.get("first") is not None else args.get("last") or 0
        return 2 + size * (1 + _node_selection_cost(walk, node, node_named))
    if isinstance(get_nullable_type(field_def.type), GraphQLList):
        if actual:
            return sum(1 + _selection_cost(walk, node.selection_set, named, item, True) for item in value or ())
        return (args.get("first") or 1) * (1 + _selection_cost(walk, node.selection_set, named))
    return 1 + _selection_cost(walk, node.selection_set, named, value, actual)


def _node_selection_cost(walk: Walk, connection_node: FieldNode, node_type: GraphQLNamedType) -> int:
    """Cost of one node of a connection, over ``edges { node }`` and ``nodes`` (the larger)."""
    best = 0
    for _, inner in iter_fields(walk, connection_node.selection_set):
        if inner.name.value == "nodes":
            best = max(best, _selection_cost(walk, inner.selection_set, node_type))
        elif inner.name.value == "edges":
            for _, edge_field in iter_fields(walk, inner.selection_set):
                if edge_field.name.value == "node":
                    best = max(best, _selection_cost(walk, edge_field.selection_set, node_type))
    return best


def _connection_actual(walk: Walk, connection_node: FieldNode, node_type: GraphQLNamedType, value: Any) -> int:
    """Actual cost of the returned nodes: each 1 plus its selection over what came back."""
    if not isinstance(value, Mapping):
        return 0
    per_node: dict[int, int] = {}
    for _, inner in iter_fields(walk, connection_node.selection_set):
        key = inner.alias.value if inner.alias else inner.name.value
        if inner.name.value == "nodes":
            for i, item in enumerate(value.get(key) or ()):
                cost = 1 + _selection_cost(walk, inner.selection_set, node_type, item, True)
                per_node[i] = max(per_node.get(i, 0), cost)
        elif inner.name.value == "edges":
            for _, edge_field in iter_fields(walk, inner.selection_set):
                if edge_field.name.value != "node":
                    continue
                node_key = edge_field.alias.value if edge_field.alias else "node"
                for i, edge in enumerate(value.get(key) or ()):
                    item = edge.get(node_key) if isinstance(edge, Mapping) else None
                    cost = 1 + _selection_cost(walk, edge_field.selection_set, node_type, item, True)
                    per_node[i] = max(per_node.get(i, 0), cost)
    return sum(per_node.values())


def requested_cost(schema: GraphQLSchema, root: GraphQLObjectType, selection_set: SelectionSetNode,
                   fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]) -> int:
    """The static cost of an operation whose root type is ``root``."""
    walk = Walk(schema, fragments, variables)
    if root is schema.mutation_type:
        return MUTATION_COST * sum(1 for _ in iter_fields(walk, selection_set))
    return _selection_cost(walk, selection_set, root)


def actual_cost(schema: GraphQLSchema, root: GraphQLObjectType, selection_set: SelectionSetNode,
                fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any],
                data: Mapping[str, Any] | None) -> int:
    """The cost of what an operation returned."""
    walk = Walk(schema, fragments, variables)
    if root is schema.mutation_type:
        return MUTATION_COST * sum(1 for _ in iter_fields(walk, selection_set))
    return _selection_cost(walk, selection_set, root, data or {}, actual=True)
