"""What a web host does to every request before the application sees it: network latency and a rate limit.

Self-hosted platforms (WooCommerce on shared hosting) have no API budget of their own; what a
client meets is the host's: a slow round trip and a WAF or proxy that answers 429 past some
request rate. Both live on the sandbox clock, so tests run them on a ManualClock::

    limit = RequestRateLimit(60, 60.0, clock)     # 60 requests a minute
    wait = limit.admit()                          # None, or seconds until a request is admitted again
    app = Delayed(app, clock, 0.25)               # every answer 250 ms later (overlapping when served)
"""

from __future__ import annotations

import math
import threading
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

from connector.clock import Clock

__all__ = ["Delayed", "RequestRateLimit"]


class RequestRateLimit:
    """At most ``limit`` admitted requests in any ``window`` seconds (a sliding window on the clock).

    Refused requests are not counted, as a WAF counts what it lets through.
    """

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()  # served sandboxes answer on uvicorn's thread, tests read on theirs

    def admit(self) -> float | None:
        """Admit one request now (None), or refuse it: the seconds until one would be admitted."""
        now = self.clock.monotonic()
        with self._lock:
            admitted = self._admitted
            while admitted and admitted[0] <= now - self.window:
                admitted.popleft()
            if len(admitted) < self.limit:
                admitted.append(now)
                return None
            return max(0.0, admitted[0] + self.window - now)

    @staticmethod
    def retry_after(wait: float) -> int:
        """``wait`` as a ``Retry-After`` value: whole seconds, at least 1."""
        return max(1, math.ceil(wait))


class Delayed:
    """An ASGI app that answers every HTTP request ``seconds`` later on the clock.

    With :class:`~connector.clock.SystemClock` this is an ``asyncio.sleep``, so a served sandbox
    keeps answering other requests meanwhile, as a remote host does.
    """

    def __init__(self, app: ASGIApp, clock: Clock, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self.app = app
        self.clock = clock
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.seconds > 0:
            await self.clock.sleep(self.seconds)
        await self.app(scope, receive, send)
