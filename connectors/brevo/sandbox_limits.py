"""Brevo's per-endpoint rate limits in the sandbox, with the ``x-sib-ratelimit-*`` headers on every answer.

The documented General tier (developers.brevo.com/docs/api-limits): every endpoint under
``/v3/contacts/…`` may be called 10 times a second and 36,000 times an hour; every other endpoint
(``/v3/processes/{id}`` included) 100 times an hour. Each class is a sliding window on the sandbox
clock. Every answer carries ``x-sib-ratelimit-limit``, ``-remaining`` and ``-reset`` (seconds until
a request is admitted again); past the limit the answer is ``429`` with Brevo's error body and no
``Retry-After``.
"""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector.clock import Clock

__all__ = ["BudgetClass", "RateLimited", "Window", "budget_class"]


class Window:
    """At most ``limit`` admitted requests in any ``seconds`` (refused ones are not counted)."""

    def __init__(self, limit: int, seconds: float, clock: Clock) -> None:
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self.admitted: deque[float] = deque()
        self.peak = 0  # the most requests ever admitted within one window, for tests and benches
        self._lock = threading.Lock()

    def admit(self) -> tuple[bool, int, float]:
        """(admitted, remaining after this request, seconds until the oldest admitted one leaves)."""
        now = self.clock.monotonic()
        with self._lock:
            while self.admitted and self.admitted[0] <= now - self.seconds:
                self.admitted.popleft()
            ok = len(self.admitted) < self.limit
            if ok:
                self.admitted.append(now)
                self.peak = max(self.peak, len(self.admitted))
            reset = self.admitted[0] + self.seconds - now if self.admitted else 0.0
            return ok, self.limit - len(self.admitted), max(0.0, reset)


@dataclass
class BudgetClass:
    """One endpoint class: its windows (all must admit a request)."""

    name: str
    windows: tuple[Window, ...]

    def admit(self) -> tuple[bool, Window, int, float]:
        """Admit against every window; the answer describes the tightest one."""
        tightest: tuple[bool, Window, int, float] | None = None
        for window in self.windows:
            ok, remaining, reset = window.admit()
            if not ok:
                return False, window, 0, reset
            if tightest is None or remaining < tightest[2]:
                tightest = (True, window, remaining, reset)
        assert tightest is not None  # noqa: S101 - a class has at least one window
        return tightest


def budget_class(path: str) -> str:
    """``contacts`` for ``/v3/contacts`` and everything under it, ``other`` for the rest."""
    return "contacts" if path.rstrip("/").startswith("/v3/contacts") else "other"


class RateLimited:
    """ASGI middleware: admit the request against its class, add the headers, or answer 429."""

    def __init__(self, app: ASGIApp, classes: dict[str, BudgetClass], before: Callable[[], None]) -> None:
        self.app = app
        self.classes = classes
        self.before = before  # e.g. completing due imports first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.before()
        budget = self.classes[budget_class(scope["path"])]
        ok, window, remaining, reset = budget.admit()
        headers = rate_headers(window.limit, remaining, reset)
        if not ok:
            body = json.dumps({"code": "too_many_requests", "message": "The rate limit has been reached. "
                               "Please retry after the time in x-sib-ratelimit-reset."}).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()), *headers]})
            await send({"type": "http.response.body", "body": body})
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, with_headers)


def rate_headers(limit: int, remaining: int, reset: float) -> list[tuple[bytes, bytes]]:
    """The three ``x-sib-ratelimit-*`` headers (reset in whole seconds, rounded up)."""
    return [(b"x-sib-ratelimit-limit", str(limit).encode()),
            (b"x-sib-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-sib-ratelimit-reset", str(math.ceil(reset)).encode())]
