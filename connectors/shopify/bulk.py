"""Bulk exports: run a ``bulkOperationRunQuery``, wait for it, stream its JSONL back as records.

A bulk query is how a shop is read *whole*: Shopify pages through it server-side, outside the
cost bucket, and writes one JSON object per line to a file we download from ``url`` (another
origin, so the core HTTP layer sends it without the access token).

What the JSONL reassembly relies on: each object of a nested connection (an order's line items)
is written as its own line with ``__parentId`` set to its parent's id, *after* the parent. With
``groupObjects`` (the default, and the only behaviour of 2025-01) the children of a parent come
before the next top-level object, though not necessarily right after the parent. So top-level
objects are buffered a batch at a time and emitted only when the next top-level line arrives;
children attach to any object of the open batch by id (which also covers grandchildren). A child
whose parent is not in the open batch means the file is not grouped as relied on: that raises
:class:`BulkOperationError` instead of silently dropping lines. Memory is bounded by the batch,
never the file.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel

from connector.errors import ConnectorError
from connectors.shopify.client import ShopifyClient
from connectors.shopify.models import BulkOperation, BulkOperationData, BulkRunData
from connectors.shopify.queries import BULK_OPERATION, BULK_RUN_QUERY, CURRENT_BULK_OPERATION

__all__ = ["TERMINAL_STATUSES", "BulkOperationError", "BulkPolicy", "iter_bulk_objects", "run_bulk_query"]

ModelT = TypeVar("ModelT", bound=BaseModel)

TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


class BulkOperationError(ConnectorError):
    """A bulk export did not complete, or its file is not what we rely on.

    Attributes:
        operation_id: the bulk operation's gid, when known.
        status: its final status (FAILED, CANCELED, EXPIRED), when it ended.
        error_code: Shopify's ``errorCode`` (ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT).
        partial_data: Shopify kept a partial file (``partialDataUrl``). It is *not* read: a partial
            export would look like a complete backfill and the cursor would move past the gap.
    """

    def __init__(
        self,
        message: str,
        *,
        operation_id: str | None = None,
        status: str | None = None,
        error_code: str | None = None,
        partial_data: bool = False,
    ) -> None:
        super().__init__(message)
        self.operation_id = operation_id
        self.status = status
        self.error_code = error_code
        self.partial_data = partial_data


@dataclass(frozen=True)
class BulkPolicy:
    """How a bulk operation is awaited: polls start at ``first_poll`` s and double up to ``max_poll``.

    ``timeout`` (seconds of polling) is ``None`` by default: Shopify itself fails a bulk query
    after 10 days, and a large shop's export can legitimately take hours.
    """

    first_poll: float = 1.0
    max_poll: float = 30.0
    timeout: float | None = None


async def run_bulk_query(client: ShopifyClient, query: str, *, policy: BulkPolicy | None = None) -> BulkOperation:
    """Start a bulk export of ``query`` and wait until it completes.

    Returns:
        The COMPLETED operation; its ``url`` is ``None`` when the export matched nothing.

    Raises:
        BulkOperationError: another bulk query is running, or the operation FAILED, was CANCELED
            or EXPIRED (saying whether Shopify kept partial data), or polling timed out.
        ShopifyGraphQLError: Shopify refused the query (``userErrors``).
    """
    policy = policy or BulkPolicy()
    data = await client.execute(BULK_RUN_QUERY, BulkRunData, {"query": query})
    payload = data.bulk_operation_run_query
    if payload is not None and any(e.code == "OPERATION_IN_PROGRESS" for e in payload.user_errors):
        current = await client.execute(CURRENT_BULK_OPERATION, BulkOperationData)
        running = current.operation.id if current.operation else "unknown"
        raise BulkOperationError(
            f"shopify: another bulk query ({running}) is still running for this app and shop; "
            "API versions before 2026-01 allow one at a time. Try again when it has finished.",
            operation_id=running,
        )
    if payload is not None:
        client.raise_for_user_errors(payload.user_errors, "bulkOperationRunQuery")
    if payload is None or payload.bulk_operation is None:
        raise BulkOperationError("shopify: bulkOperationRunQuery returned no operation")
    return await _wait(client, payload.bulk_operation, policy)


async def _wait(client: ShopifyClient, operation: BulkOperation, policy: BulkPolicy) -> BulkOperation:
    delay, waited = policy.first_poll, 0.0
    while operation.status not in TERMINAL_STATUSES:
        if policy.timeout is not None and waited >= policy.timeout:
            raise BulkOperationError(
                f"shopify: bulk operation {operation.id} still {operation.status} after {waited:.0f} s",
                operation_id=operation.id,
                status=operation.status,
            )
        await client.clock.sleep(delay)
        waited += delay
        delay = min(delay * 2, policy.max_poll)
        polled = await client.execute(BULK_OPERATION, BulkOperationData, {"id": operation.id})
        if polled.operation is None:
            raise BulkOperationError(f"shopify: bulk operation {operation.id} vanished", operation_id=operation.id)
        operation = polled.operation
    if operation.status != "COMPLETED":
        partial = operation.partial_data_url is not None
        raise BulkOperationError(
            f"shopify: bulk operation {operation.id} ended {operation.status}"
            + (f" ({operation.error_code})" if operation.error_code else "")
            + ("; Shopify kept partial data, which is not used: a partial backfill would leave a gap behind"
               " the cursor. Run the backfill again." if partial else "; no data was kept. Run the backfill again."),
            operation_id=operation.id,
            status=operation.status,
            error_code=operation.error_code,
            partial_data=partial,
        )
    return operation


async def iter_bulk_objects(
    client: ShopifyClient,
    url: str,
    model: type[ModelT],
    *,
    children: Mapping[str, str],
    batch_size: int,
) -> AsyncIterator[list[ModelT]]:
    """Stream a bulk export's JSONL and yield its top-level objects, children attached, in batches.

    Args:
        client: the shop's client; its HTTP layer streams the file without the access token.
        url: the operation's ``url``.
        model: the raw model of a top-level object (e.g. ``ShopifyOrder``).
        children: child gid type -> connection field of its parent, e.g. ``{"LineItem": "lineItems"}``;
            children are attached as ``{field: {"nodes": [...]}}``, the shape paginated queries read.
        batch_size: top-level objects per yielded batch (the last one may be smaller).

    Raises:
        BulkOperationError: a line is not JSON, a child's parent is not in the open batch, or a
            child's type is not in ``children``.
    """
    secrets = [value for _, value in parse_qsl(urlsplit(url).query)]  # a pre-signed URL is a credential
    batch = _Batch(children)
    async with client.http.stream("GET", url, cost=0, secrets=secrets) as response:
        line_number = 0
        async for line in response.aiter_lines():
            line_number += 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise BulkOperationError(f"shopify: bulk export line {line_number} is not JSON") from None
            if not isinstance(obj, dict):
                raise BulkOperationError(f"shopify: bulk export line {line_number} is not an object")
            parent_id = obj.pop("__parentId", None)
            if parent_id is None:
                # A new top-level object: every child of the batch's objects has been seen.
                if len(batch) >= batch_size:
                    yield batch.flush(model)
                batch.add_root(obj)
            else:
                batch.add_child(obj, parent_id, line_number)
    if len(batch):
        yield batch.flush(model)


class _Batch:
    """Top-level objects awaiting their children, and every object of theirs by id."""

    def __init__(self, children: Mapping[str, str]) -> None:
        self._children = children
        self._roots: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._roots)

    def add_root(self, obj: dict[str, Any]) -> None:
        self._roots.append(obj)
        self._index(obj)

    def add_child(self, obj: dict[str, Any], parent_id: str, line_number: int) -> None:
        parent = self._by_id.get(parent_id)
        if parent is None:
            raise BulkOperationError(
                f"shopify: bulk export line {line_number} belongs to {parent_id}, which is not among the open "
                "objects: the file is not grouped by parent, which this reader relies on"
            )
        type_name = _type_name(obj.get("id"))
        field = self._children.get(type_name) if type_name else None
        if field is None:
            raise BulkOperationError(
                f"shopify: bulk export line {line_number} is a {type_name or 'object without id'}, "
                f"which is not a known child ({', '.join(sorted(self._children)) or 'none expected'})"
            )
        connection = parent.setdefault(field, {"nodes": []})
        connection["nodes"].append(obj)
        self._index(obj)

    def flush(self, model: type[ModelT]) -> list[ModelT]:
        parsed = [model.model_validate(root) for root in self._roots]
        self._roots, self._by_id = [], {}
        return parsed

    def _index(self, obj: dict[str, Any]) -> None:
        if isinstance(obj.get("id"), str):
            self._by_id[obj["id"]] = obj


def _type_name(gid: object) -> str | None:
    """``gid://shopify/LineItem/7`` -> ``LineItem``."""
    if not isinstance(gid, str) or not gid.startswith("gid://"):
        return None
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 else None
