"""One GraphQL request, start to finish, the way Shopify's Admin API handles it.

parse and validate (errors: HTTP 200, no ``data``) → coerce variables → requested cost →
single-query limit (``MAX_COST_EXCEEDED``) → leaky bucket (``THROTTLED``) → connection arguments →
execute → actual cost, refund the difference → ``{data, errors?, extensions: {cost, search?}}``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationType,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from connector.clock import Clock
from connector.sandbox.shop import ShopState
from connectors.shopify.sandbox_bulk import BulkJob, BulkJobs, BulkPage, ResultFile, jsonl_lines, write_result
from connectors.shopify.sandbox_bulk_api import bulk_walk
from connectors.shopify.sandbox_context import Context, ShopIdentity
from connectors.shopify.sandbox_cost import MAX_QUERY_COST, PLANS, LeakyBucket, Walk, actual_cost, requested_cost
from connectors.shopify.sandbox_errors import (
    check_connection_arguments,
    error,
    max_cost_body,
    shopify_validation_error,
    throttled_body,
)
from connectors.shopify.sandbox_exec import LeanExecutor
from connectors.shopify.sandbox_resolvers import field_resolver, type_resolver
from connectors.shopify.sandbox_schema import admin_schema

__all__ = ["Answer", "ShopifyEngine"]

logger = logging.getLogger(__name__)
_DOCUMENT_CACHE = 256


@dataclass(frozen=True)
class Answer:
    """A GraphQL response body and the actual cost charged (None when nothing was charged)."""

    body: dict[str, Any]
    cost: int | None


class ShopifyEngine:
    """Executes Admin API GraphQL against a shop, with Shopify's costs, limits and bulk jobs."""

    def __init__(self, shop: ShopState, identity: ShopIdentity, scopes: frozenset[str], clock: Clock, *,
                 bulk_startup_seconds: float = 1.0, bulk_seconds_per_10k: float = 2.0,
                 bulk_in_background: bool = False) -> None:
        self.shop = shop
        self.identity = identity
        self.scopes = scopes
        self.clock = clock
        self.schema = admin_schema()
        size, rate = PLANS[identity.plan]
        self.bucket = LeakyBucket(size, rate, clock)
        self.bulk = BulkJobs(clock, startup_seconds=bulk_startup_seconds, seconds_per_10k=bulk_seconds_per_10k,
                             background=bulk_in_background)
        self.bulk.writer = self._write_result
        self._documents: OrderedDict[str, DocumentNode | list[dict[str, Any]]] = OrderedDict()

    def context(self, base_url: str, bulk_page: BulkPage | None = None) -> Context:
        return Context(self.shop, self.identity, self.scopes, self.clock, self.schema, self.bulk,
                       base_url.rstrip("/"), bulk_page)

    def _document(self, query: str) -> DocumentNode | list[dict[str, Any]]:
        """The parsed and validated document, or its errors (cached: clients repeat their queries)."""
        cached = self._documents.get(query)
        if cached is None:
            try:
                document = parse(query)
                problems = validate(self.schema, document)
                cached = [shopify_validation_error(e) for e in problems] if problems else document
            except GraphQLError as exc:
                cached = [shopify_validation_error(exc)]
            self._documents[query] = cached
            if len(self._documents) > _DOCUMENT_CACHE:
                self._documents.popitem(last=False)
        else:
            self._documents.move_to_end(query)
        return cached

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.bucket.status()}

    def run(self, query: str, variables: dict[str, Any] | None, operation_name: str | None,
            base_url: str) -> Answer:
        """Answer one request's ``query``/``variables``/``operationName``."""
        document = self._document(query)
        if isinstance(document, list):
            return Answer({"errors": document}, None)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            wanted = f"No operation named \"{operation_name}\"" if operation_name else \
                "An operation name is required when the document holds several operations"
            return Answer({"errors": [error(wanted, code="operationNotFound")]}, None)
        if operation.operation is OperationType.SUBSCRIPTION:
            return Answer({"errors": [error("Subscriptions are not supported", code="BAD_REQUEST")]}, None)
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            return Answer({"errors": [shopify_validation_error(e) for e in coerced]}, None)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        root = self.schema.mutation_type if operation.operation is OperationType.MUTATION else self.schema.query_type
        assert root is not None  # noqa: S101 - the Admin schema has both roots
        walk = Walk(self.schema, fragments, coerced)
        requested = requested_cost(self.schema, root, operation.selection_set, fragments, coerced)
        if requested > MAX_QUERY_COST:
            return Answer(max_cost_body(requested), None)
        if not self.bucket.take(requested):
            return Answer(throttled_body(self._cost(requested, None)), 0)
        problems = check_connection_arguments(root, operation.selection_set, walk)
        if problems:
            return Answer({"errors": problems, "data": None, "extensions": {"cost": self._cost(requested, requested)}},
                          requested)
        ctx = self.context(base_url)
        result = execute_sync(self.schema, document, context_value=ctx, variable_values=variables,
                              operation_name=operation_name, field_resolver=field_resolver,
                              type_resolver=type_resolver)
        actual = min(requested, actual_cost(self.schema, root, operation.selection_set, fragments, coerced,
                                            result.data))
        self.bucket.refund(requested - actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [self._formatted(e) for e in result.errors]
        body["data"] = result.data
        body["extensions"] = {"cost": self._cost(requested, actual)}
        if ctx.search:
            body["extensions"]["search"] = ctx.search
        return Answer(body, actual)

    @staticmethod
    def _formatted(exc: GraphQLError) -> dict[str, Any]:
        if exc.original_error is not None and not isinstance(exc.original_error, GraphQLError):
            logger.warning("sandbox resolver failed at %s", exc.path, exc_info=exc.original_error)
        return dict(exc.formatted)

    def _write_result(self, job: BulkJob) -> ResultFile:
        """Run a finished job's query over the whole shop into its JSONL file."""
        ctx = self.context("")
        operation, walk = bulk_walk(ctx, job.query)
        executor = LeanExecutor(operation, walk.fragments, ctx)
        failures: list[str] = []

        def execute(page: BulkPage) -> dict[str, Any] | None:
            try:
                return executor.run(self.context("", page))
            except GraphQLError as exc:
                code = (exc.extensions or {}).get("code")
                failures.append("ACCESS_DENIED" if code == "ACCESS_DENIED" else "INTERNAL_SERVER_ERROR")
                logger.warning("sandbox bulk %s failed: %s", job.id, exc.message)
                return None

        result_file = write_result(jsonl_lines(execute, operation, walk))
        if failures:
            job.error_code = failures[0]
            result_file.partial = True
        return result_file
