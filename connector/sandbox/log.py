"""What a sandbox was asked: one entry per HTTP request, for tests and benches to count API calls.

A served sandbox answers on uvicorn's thread while a test or bench reads the log on its own, so
the log guards its list with a lock and hands out snapshots, never the live list.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["RequestEntry", "RequestLog"]


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """One request as the sandbox saw it.

    Attributes:
        method: the HTTP method, upper case.
        path: the URL path, without the query string.
        status: the HTTP status sent, or None when no response was sent (an in-process timeout or
            dropped connection, which the client sees as an exception).
        cost: what the platform charged for the request (Shopify: the actual query cost), if any.
        latency_ms: wall time from the request's arrival to the end of the response.
        at: the sandbox clock's monotonic time when the request arrived.
        fault: the injected fault (``"429"``, ``"5xx"``, ``"timeout"``, ``"drop"``, ``"malformed"``) or None.
    """

    method: str
    path: str
    status: int | None
    cost: float | None
    latency_ms: float
    at: float
    fault: str | None = None


class RequestLog:
    """Every request a sandbox received, in arrival order."""

    def __init__(self) -> None:
        self._entries: list[RequestEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: RequestEntry) -> None:
        """Append one entry (the sandbox app calls this once per request)."""
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> tuple[RequestEntry, ...]:
        """A snapshot of every entry so far."""
        with self._lock:
            return tuple(self._entries)

    def count(self, method: str | None = None, path_prefix: str | None = None, status: int | None = None) -> int:
        """How many requests match every given criterion (None means "any")."""
        return len(self.select(method=method, path_prefix=path_prefix, status=status))

    def select(
        self, method: str | None = None, path_prefix: str | None = None, status: int | None = None
    ) -> list[RequestEntry]:
        """The entries matching every given criterion, in arrival order."""
        wanted_method = method.upper() if method else None
        return [
            e
            for e in self.entries
            if (wanted_method is None or e.method == wanted_method)
            and (path_prefix is None or e.path.startswith(path_prefix))
            and (status is None or e.status == status)
        ]

    def total_cost(self, path_prefix: str | None = None) -> float:
        """The sum of the recorded costs (requests without a cost count as zero)."""
        return sum(e.cost or 0.0 for e in self.select(path_prefix=path_prefix))

    def clear(self) -> None:
        """Forget every entry (e.g. between phases of a bench)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
