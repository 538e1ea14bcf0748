"""The GraphQL face of bulk operations: ``bulkOperationRunQuery``, ``bulkOperationCancel``, ``BulkOperation``.

Query restrictions, as Shopify documents them for bulk queries: at least one connection, at most
five, connections nested at most two deep, no top-level ``node``/``nodes``; and (before API
2026-01) one bulk query at a time per app and shop. Broken queries come back as ``userErrors``
with code ``INVALID``; a second query while one runs gets ``OPERATION_IN_PROGRESS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    validate,
)

from connectors.shopify.sandbox_bulk import BulkJob
from connectors.shopify.sandbox_context import REQUIRED_SCOPES, Context, Resolver
from connectors.shopify.sandbox_cost import Walk, iter_fields
from connectors.shopify.sandbox_root import KIND_OF_FIELD, sandbox_unsupported
from connectors.shopify.sandbox_schema import is_connection, iso, parse_gid

__all__ = ["RESOLVERS", "bulk_operation", "bulk_walk"]

MAX_CONNECTIONS = 5
MAX_DEPTH = 2


def _user_error(message: str, code: str = "INVALID") -> dict[str, Any]:
    return {"field": ["query"], "message": message, "code": code}


def bulk_walk(ctx: Context, query: str) -> tuple[OperationDefinitionNode, Walk]:
    """The query's single operation and a walk over it.

    Raises:
        ValueError: the query does not parse, validate, or hold exactly one query operation.
    """
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise ValueError(exc.message) from exc
    errors = validate(ctx.schema, document)
    if errors:
        raise ValueError(errors[0].message)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        raise ValueError("a bulk query holds exactly one query operation")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return operations[0], Walk(ctx.schema, fragments, {})


def _connections(walk: Walk, selection: SelectionSetNode | None, type_: Any, depth: int) -> tuple[int, int]:
    """(number of connections, deepest connection nesting) under a selection."""
    count, deepest = 0, depth
    if not isinstance(type_, GraphQLObjectType):
        return count, deepest
    for _, node in iter_fields(walk, selection):
        field_def = type_.fields.get(node.name.value)
        if field_def is None:
            continue
        named = get_named_type(field_def.type)
        inner_depth = depth + 1 if is_connection(named) else depth
        count += is_connection(named)
        sub_count, sub_deep = _connections(walk, node.selection_set, named, inner_depth)
        count, deepest = count + sub_count, max(deepest, inner_depth, sub_deep)
    return count, deepest


def _problem(ctx: Context, query: str) -> tuple[str | None, str | None]:
    """(root field, None) for a valid bulk query, else (None, the reason it is refused)."""
    try:
        operation, walk = bulk_walk(ctx, query)
    except ValueError as exc:
        return None, f"Invalid bulk query: {exc}"
    roots = [node.name.value for _, node in iter_fields(walk, operation.selection_set)]
    if any(name in ("node", "nodes") for name in roots):
        return None, "Bulk queries cannot contain a top level `node` or `nodes` field."
    query_type = ctx.schema.query_type
    count, depth = _connections(walk, operation.selection_set, query_type, 0)
    if count == 0:
        return None, "Bulk queries must contain at least one connection."
    if count > MAX_CONNECTIONS:
        return None, f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    if depth > MAX_DEPTH:
        return None, f"Bulk queries cannot contain connections nested more than {MAX_DEPTH} levels deep."
    if len(roots) != 1 or roots[0] not in KIND_OF_FIELD:
        raise sandbox_unsupported("bulk queries must start at one of customers, orders or abandonedCheckouts")
    return roots[0], None


def _run_query(_root: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    query = args["query"]
    root, problem = _problem(ctx, query)
    if problem is not None or root is None:
        return {"bulkOperation": None, "userErrors": [_user_error(problem or "Invalid bulk query")]}
    running = ctx.bulk.running()
    if running is not None:
        message = f"A bulk query operation for this app and shop is already in progress: {running.id}."
        return {"bulkOperation": None, "userErrors": [_user_error(message, "OPERATION_IN_PROGRESS")]}
    needed, _ = REQUIRED_SCOPES[("QueryRoot", root)]
    kind = KIND_OF_FIELD[root]
    job = ctx.bulk.create(query, root, ctx.shop.count(kind),
                          error_code=None if ctx.has_scopes(*needed) else "ACCESS_DENIED")
    return {"bulkOperation": job, "userErrors": []}


def _cancel(_root: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_gid(args["id"])
    job = ctx.bulk.get(parsed[1]) if parsed and parsed[0] == "BulkOperation" else None
    if job is None:
        return {"bulkOperation": None, "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]}
    ctx.bulk.cancel(job)
    return {"bulkOperation": job, "userErrors": []}


def _not_modelled(name: str) -> Resolver:
    def refuse(_root: Any, _ctx: Context, _args: Any) -> Any:
        raise sandbox_unsupported(f"the {name} mutation is not modelled")

    return refuse


def bulk_operation(job: BulkJob, ctx: Context) -> dict[str, Any]:
    """Everything ``BulkOperation`` shows, as of now (writing the result file on first need)."""
    status = ctx.bulk.status(job)
    if status in ("COMPLETED", "FAILED") and job.result is None and job.error_code != "ACCESS_DENIED":
        ctx.bulk.materialize(job)
        status = ctx.bulk.status(job)
    result = job.result
    done = status in ("COMPLETED", "FAILED", "EXPIRED")
    url = f"{ctx.base_url}/bulk/{job.token}.jsonl"
    has_data = result is not None and result.objects > 0
    if done:
        objects, roots = (result.objects, result.roots) if result else (0, 0)
    else:  # a running count, from the size of the root collection when the job started
        objects = roots = int(job.estimate * ctx.bulk.progress(job))
    finished = ctx.bulk.finished_at(job) if done else job.canceled_at
    return {
        "id": job.id, "status": status, "type": "QUERY", "query": job.query,
        "errorCode": job.error_code if status == "FAILED" else None,
        "createdAt": iso(job.created_at), "completedAt": iso(finished),
        "objectCount": str(objects), "rootObjectCount": str(roots),
        "fileSize": str(result.size) if status == "COMPLETED" and has_data and result else None,
        "url": url if status == "COMPLETED" and has_data else None,
        "partialDataUrl": url if status == "FAILED" and has_data else None,
    }


def _bulk_field(name: str) -> Resolver:
    return lambda job, ctx, _args: bulk_operation(job, ctx)[name]


_FIELDS = ("id", "status", "type", "query", "errorCode", "createdAt", "completedAt", "objectCount",
           "rootObjectCount", "fileSize", "url", "partialDataUrl")

RESOLVERS: Mapping[str, Mapping[str, Resolver]] = {
    "Mutation": {"bulkOperationRunQuery": _run_query, "bulkOperationCancel": _cancel,
                 "bulkOperationRunMutation": _not_modelled("bulkOperationRunMutation")},
    "BulkOperation": {name: _bulk_field(name) for name in _FIELDS},
}
