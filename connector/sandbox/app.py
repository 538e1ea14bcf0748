"""A platform sandbox as one object: a Starlette app plus the log, faults, clock and state around it.

Each platform builds its sandbox by composition, passing its routes and its own auth check::

    sandbox = SandboxApp("shopify", routes, authenticate=check_token, clock=clock)
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as client:
        ...
    sandbox.log.count(path_prefix="/admin/api/")

The same object is served on 127.0.0.1 by :mod:`connector.sandbox.serve`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from connector.clock import Clock, SystemClock
from connector.sandbox.faults import FaultPlan, FaultResponses
from connector.sandbox.log import RequestLog
from connector.sandbox.pipeline import IN_PROCESS_KEY, Pipeline
from connector.sandbox.shop import ShopState
from connector.sandbox.state import save_state

__all__ = ["SandboxApp"]

PartT = TypeVar("PartT")


class SandboxApp:
    """A platform emulator: routes behind auth, fault injection and a request log.

    Args:
        platform: the platform's registry name, e.g. ``"shopify"``.
        routes: the platform's Starlette routes; handlers may set ``request.state.cost``.
        authenticate: returns the platform's own error response for a request it refuses, or None.
            It decides itself which paths need no credentials.
        faults: what to inject; None for a well-behaved sandbox.
        clock: the time the sandbox lives in (rate limits, timestamps, slow responses).
        dump_state: the sandbox's persistent state as JSON-able data (see :meth:`save`).
        state_file: where :meth:`save` writes, and where the platform factory loaded from.
        fault_exempt: path prefixes the platform never faults unless the plan says otherwise.
        fault_responses: the platform's wording of 429 and 5xx answers.
        base_url: the URL root clients use in-process (any host works with the ASGI transport).
        describe: lines telling a person how to use the served sandbox, given its URL root.
        shop: the shop data behind a shop platform's sandbox, for tests to read and mutate.
    """

    def __init__(
        self,
        platform: str,
        routes: Sequence[BaseRoute],
        *,
        authenticate: Callable[[Request], Response | None],
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        dump_state: Callable[[], Mapping[str, Any]] | None = None,
        state_file: Path | None = None,
        fault_exempt: Sequence[str] = (),
        fault_responses: FaultResponses | None = None,
        base_url: str = "http://sandbox.test",
        describe: Callable[[str], list[str]] | None = None,
        shop: ShopState | None = None,
    ) -> None:
        self.platform = platform
        self.clock: Clock = clock or SystemClock()
        self.faults = faults
        self.log = RequestLog()
        self.base_url = base_url.rstrip("/")
        self.state_file = state_file
        self.shop = shop
        # Platform-specific parts (e.g. Shopify's cost bucket and bulk jobs), for tests and benches.
        self.extras: dict[str, Any] = {}
        self.starlette = Starlette(routes=list(routes))
        self._dump_state = dump_state
        self._describe = describe
        self.asgi: ASGIApp = Pipeline(
            self.starlette,
            authenticate=authenticate,
            log=self.log,
            clock=self.clock,
            faults=faults,
            fault_exempt=fault_exempt,
            fault_responses=fault_responses or FaultResponses(),
        )

    def part(self, name: str, kind: type[PartT]) -> PartT:
        """The platform-specific part registered as ``name`` in :attr:`extras`, checked to be a ``kind``.

        Raises:
            TypeError: this sandbox has no such part (it is another platform's sandbox).
        """
        value = self.extras.get(name)
        if not isinstance(value, kind):
            raise TypeError(f"the {self.platform} sandbox has no {name} ({kind.__name__})")
        return value

    def transport(self) -> httpx.ASGITransport:
        """An httpx transport that calls the sandbox in-process (no socket, no thread)."""
        return httpx.ASGITransport(app=_InProcess(self.asgi))

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A plain ``httpx.AsyncClient`` on the in-process transport, for tests."""
        return httpx.AsyncClient(transport=self.transport(), base_url=self.base_url, **kwargs)

    def describe(self, base_url: str) -> list[str]:
        """How to use the sandbox served at ``base_url``: endpoint, credentials, an example."""
        if self._describe is None:
            return [f"{self.platform} sandbox at {base_url}"]
        return self._describe(base_url.rstrip("/"))

    def dump(self) -> dict[str, Any]:
        """The persistent state as JSON-able data (empty when the sandbox keeps none)."""
        state = dict(self._dump_state()) if self._dump_state else {}
        return {"platform": self.platform, "format": 1, **state}

    def save(self, path: Path | None = None) -> Path | None:
        """Write :meth:`dump` to ``path`` (default: ``state_file``) atomically; returns where, or None."""
        target = path or self.state_file
        if target is None:
            return None
        save_state(target, self.dump())
        return target


class _InProcess:
    """Marks the scope as in-process, so faults take their in-process form."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, IN_PROCESS_KEY: True}, receive, send)
