"""Bulk query operations: ``bulkOperationRunQuery``, their lifecycle on the clock, and the JSONL result.

A job is CREATED, RUNNING for a time proportional to the shop's size, then COMPLETED (or FAILED
with ``ACCESS_DENIED`` when the app lacks the root's scopes). The first time a finished job is
looked at, its result is written once, page by page, into an anonymous temporary file: never held
in memory, and fixed at that moment like Shopify's snapshot. The file is served at an unguessable
``/bulk/<token>.jsonl`` URL (Shopify's is a signed storage URL needing no token), valid 7 days.

JSONL as Shopify writes it: one line per root object, and one line per node of a nested
connection, after its parent, carrying ``"__parentId"``; ``edges``/``node`` wrappers are gone.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graphql import (
    FieldNode,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)

from connector.clock import Clock
from connectors.shopify.sandbox_cost import Walk, iter_fields
from connectors.shopify.sandbox_paging import Page
from connectors.shopify.sandbox_schema import gid, is_connection

_log = logging.getLogger("connector.sandbox")

__all__ = ["EXPIRY", "BulkJob", "BulkJobs", "BulkPage", "ResultFile", "jsonl_lines"]

EXPIRY = timedelta(days=7)
PAGE_SIZE = 250
# Result files kept open; an older job's file is written again if someone downloads it later.
KEPT_RESULTS = 4


@dataclass
class BulkPage:
    """The root page a bulk execution pass asks for, and what the root resolver found."""

    after: str | None = None
    size: int = PAGE_SIZE
    page: Page | None = None

    def took(self, page: Page) -> None:
        self.page = page


@dataclass
class ResultFile:
    """A finished job's JSONL, in an anonymous temporary file."""

    fd: int
    size: int
    objects: int
    roots: int
    partial: bool = False

    def chunks(self, chunk: int = 65536) -> Iterator[bytes]:
        """The file's bytes in order (positional reads: several downloads may run at once)."""
        offset = 0
        while offset < self.size:
            data = os.pread(self.fd, min(chunk, self.size - offset), offset)
            if not data:
                return
            offset += len(data)
            yield data

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class BulkJob:
    """One bulk query operation."""

    number: int
    query: str
    root: str  # the root connection field, e.g. "orders"
    created_at: datetime
    seconds: float  # how long it runs once started
    token: str
    estimate: int = 0  # root records when the job started, for the running counts
    error_code: str | None = None
    canceled_at: datetime | None = None
    result: ResultFile | None = field(default=None, repr=False)
    written_at: datetime | None = None  # when a background write finished (served sandboxes)

    @property
    def id(self) -> str:
        return gid("BulkOperation", self.number)

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "query": self.query, "root": self.root,
                "created_at": self.created_at.isoformat(), "seconds": self.seconds, "token": self.token,
                "estimate": self.estimate, "error_code": self.error_code,
                "canceled_at": self.canceled_at.isoformat() if self.canceled_at else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkJob:
        canceled = data.get("canceled_at")
        return cls(data["number"], data["query"], data["root"], datetime.fromisoformat(data["created_at"]),
                   float(data["seconds"]), data["token"], int(data.get("estimate", 0)), data.get("error_code"),
                   datetime.fromisoformat(canceled) if canceled else None)


class BulkJobs:
    """Every bulk job of the sandbox's one app on its one shop."""

    def __init__(self, clock: Clock, *, startup_seconds: float = 1.0, seconds_per_10k: float = 2.0,
                 background: bool = False) -> None:
        self.clock = clock
        self.startup_seconds = startup_seconds
        self.seconds_per_10k = seconds_per_10k
        # Served sandboxes write result files on a worker thread from the moment a job is created, as
        # Shopify does while a job is RUNNING, so a poll never waits for the file; in-process ones
        # write on first need, so that tests on a manual clock stay deterministic.
        self.background = background
        self._jobs: dict[int, BulkJob] = {}
        self._writing: dict[int, threading.Thread] = {}
        # Writes a finished job's result file; set by the engine, which knows how to run queries.
        self.writer: Callable[[BulkJob], ResultFile] | None = None

    def create(self, query: str, root: str, records: int, error_code: str | None = None) -> BulkJob:
        number = max(self._jobs, default=0) + 1
        seconds = max(1.0, records / 10_000 * self.seconds_per_10k)
        job = BulkJob(number, query, root, self.clock.now(), seconds, secrets.token_urlsafe(24), records, error_code)
        self._jobs[number] = job
        for old in sorted(self._jobs)[:-KEPT_RESULTS]:
            self._drop_result(self._jobs[old])
        if self.background and self.writer is not None and error_code is None:
            thread = threading.Thread(target=self._write, args=(job,), name=f"bulk-{number}", daemon=True)
            self._writing[number] = thread
            thread.start()
        return job

    def _write(self, job: BulkJob) -> None:
        assert self.writer is not None  # noqa: S101 - only started with a writer
        try:
            job.result = self.writer(job)
        except Exception:  # noqa: BLE001 - a failed export is a FAILED job, as on Shopify
            _log.exception("sandbox: writing the result of bulk operation %s failed", job.number)
            job.error_code = "INTERNAL_SERVER_ERROR"
        finally:
            job.written_at = self.clock.now()

    def writing(self, job: BulkJob) -> bool:
        """Whether the job's result file is still being written on its worker thread."""
        thread = self._writing.get(job.number)
        return thread is not None and thread.is_alive()

    @staticmethod
    def _drop_result(job: BulkJob) -> None:
        if job.result is not None:
            job.result.close()
            job.result = None

    def get(self, number: int) -> BulkJob | None:
        return self._jobs.get(number)

    def by_token(self, token: str) -> BulkJob | None:
        return next((j for j in self._jobs.values() if secrets.compare_digest(j.token, token)), None)

    def current(self, type_: str = "QUERY") -> BulkJob | None:
        """The most recent job of this type (the sandbox runs bulk queries only)."""
        return self._jobs[max(self._jobs)] if self._jobs and type_ == "QUERY" else None

    def running(self) -> BulkJob | None:
        return next((j for j in self._jobs.values() if self.status(j) in ("CREATED", "RUNNING")), None)

    def finished_at(self, job: BulkJob) -> datetime:
        """When the job completes: its simulated run time, or later if its file is still being written."""
        scheduled = job.created_at + timedelta(seconds=self.startup_seconds + job.seconds)
        if self.writing(job):
            return max(scheduled, self.clock.now())
        return max(scheduled, job.written_at) if job.written_at else scheduled

    def status(self, job: BulkJob) -> str:
        if job.canceled_at is not None:
            return "CANCELED"
        now = self.clock.now()
        if now < job.created_at + timedelta(seconds=self.startup_seconds):
            return "CREATED"
        if now < self.finished_at(job) or self.writing(job):
            return "RUNNING"
        if job.error_code:
            return "FAILED"
        return "EXPIRED" if now > self.finished_at(job) + EXPIRY else "COMPLETED"

    def progress(self, job: BulkJob) -> float:
        """How far a job has run, from 0 to 1."""
        elapsed = (self.clock.now() - job.created_at).total_seconds() - self.startup_seconds
        return min(1.0, max(0.0, elapsed / job.seconds))

    def materialize(self, job: BulkJob) -> ResultFile | None:
        """The job's result file, written now if this is the first time it is needed."""
        if job.result is None and self.writer is not None and job.number not in self._writing:
            job.result = self.writer(job)
        return job.result

    def cancel(self, job: BulkJob) -> None:
        if self.status(job) in ("CREATED", "RUNNING"):
            job.canceled_at = self.clock.now()

    def dump(self) -> list[dict[str, Any]]:
        return [job.to_json() for job in self._jobs.values()]

    def load(self, jobs: list[Mapping[str, Any]]) -> None:
        for data in jobs:
            job = BulkJob.from_json(data)
            self._jobs[job.number] = job

    def close(self) -> None:
        """Close every result file (they are anonymous temporary files: closing deletes them)."""
        for job in self._jobs.values():
            self._drop_result(job)


def write_result(lines: Iterator[tuple[bytes, bool]]) -> ResultFile:
    """Write JSONL lines (with "is a root line") into a new anonymous temporary file."""
    # An anonymous file (deleted when closed) owned through a bare descriptor, read with pread.
    with tempfile.TemporaryFile() as handle:
        fd = os.dup(handle.fileno())
    size = objects = roots = 0
    buffer = bytearray()
    try:
        for line, is_root in lines:
            buffer += line
            objects += 1
            roots += is_root
            if len(buffer) >= 1 << 20:
                size += _write_all(fd, buffer)
        size += _write_all(fd, buffer)
    except BaseException:
        os.close(fd)
        raise
    return ResultFile(fd, size, objects, roots)


def _write_all(fd: int, buffer: bytearray) -> int:
    written = 0
    view = memoryview(buffer)
    while written < len(buffer):
        written += os.write(fd, view[written:])
    view.release()
    buffer.clear()
    return written


def jsonl_lines(
    execute: Callable[[BulkPage], Mapping[str, Any] | None],
    operation: OperationDefinitionNode,
    walk: Walk,
) -> Iterator[tuple[bytes, bool]]:
    """Every line of a bulk query's result, paging the root connection ``PAGE_SIZE`` at a time.

    Args:
        execute: runs the query for one root page; returns ``data``, or None after an error (the
            lines so far stay, as Shopify's partial data).
    """
    assert operation.operation is OperationType.QUERY  # noqa: S101 - checked when the job was created
    root_type = walk.schema.query_type
    assert root_type is not None  # noqa: S101
    _, root_node = next(iter(iter_fields(walk, operation.selection_set)))
    root_key = root_node.alias.value if root_node.alias else root_node.name.value
    node_type = _node_type(root_type, root_node)
    after: str | None = None
    while True:
        page = BulkPage(after=after)
        data = execute(page)
        if data is None or page.page is None:
            return
        nodes = _nodes_of(data.get(root_key), root_node, walk)
        for (_, record), (selection, value) in zip(page.page.rows, nodes, strict=False):
            yield from _split(value, selection, node_type, None, gid(node_type.name, record.key), walk)
        if not page.page.has_next or not page.page.rows:
            return
        after = page.page.rows[-1][0]


def _node_type(parent: GraphQLObjectType, node: FieldNode) -> GraphQLObjectType:
    connection = get_named_type(parent.fields[node.name.value].type)
    assert isinstance(connection, GraphQLObjectType)  # noqa: S101 - connections are object types
    field_type = connection.fields["nodes"].type if "nodes" in connection.fields else \
        get_named_type(connection.fields["edges"].type).fields["node"].type  # type: ignore[union-attr]
    named = get_named_type(field_type)
    assert isinstance(named, GraphQLObjectType)  # noqa: S101 - bulk-able connections hold objects
    return named


def _nodes_of(value: Any, connection_node: FieldNode, walk: Walk) -> list[tuple[SelectionSetNode | None, Any]]:
    """A connection's node values with the selection each was made with (``nodes`` or ``edges.node``)."""
    if not isinstance(value, Mapping):
        return []
    for _, inner in iter_fields(walk, connection_node.selection_set):
        key = inner.alias.value if inner.alias else inner.name.value
        if inner.name.value == "nodes":
            return [(inner.selection_set, item) for item in value.get(key) or ()]
        if inner.name.value == "edges":
            for _, edge_field in iter_fields(walk, inner.selection_set):
                if edge_field.name.value == "node":
                    node_key = edge_field.alias.value if edge_field.alias else "node"
                    return [(edge_field.selection_set, edge.get(node_key)) for edge in value.get(key) or ()]
    return []


def _split(value: Mapping[str, Any], selection: SelectionSetNode | None, type_: GraphQLObjectType,
           parent_id: str | None, own_id: str | None, walk: Walk) -> Iterator[tuple[bytes, bool]]:
    """One object's line (connections taken out), then its connections' nodes as child lines."""
    line: dict[str, Any] = {}
    children: list[tuple[FieldNode, GraphQLObjectType, Any]] = []
    for _, node in iter_fields(walk, selection):
        key = node.alias.value if node.alias else node.name.value
        field_def = type_.fields.get(node.name.value)
        if key not in value:
            continue
        if field_def is not None and is_connection(field_def.type):
            children.append((node, _node_type(type_, node), value[key]))
        else:
            line[key] = value[key]
    if parent_id is not None:
        line["__parentId"] = parent_id
    yield json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n", parent_id is None
    for node, child_type, child_value in children:
        for child_selection, item in _nodes_of(child_value, node, walk):
            if isinstance(item, Mapping):
                yield from _split(item, child_selection, child_type, own_id, item.get("id"), walk)
