"""The ASGI layer every sandbox request goes through: log, authenticate, inject faults, handle.

It wraps the platform's Starlette app from the outside, so an exception raised for an in-process
fault bypasses Starlette's error middleware and reaches ``httpx.ASGITransport`` (and so the
client) as is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector.clock import Clock
from connector.sandbox.faults import Fault, FaultKind, FaultPlan, FaultResponses
from connector.sandbox.log import RequestEntry, RequestLog

__all__ = ["IN_PROCESS_KEY", "Pipeline"]

logger = logging.getLogger(__name__)

# Set in the ASGI scope by the in-process transport wrapper: the only way to tell the two modes apart.
IN_PROCESS_KEY = "connector.sandbox.in_process"


@dataclass
class _Outcome:
    status: int | None = None
    fault: Fault | None = None
    recorded: bool = False


class Pipeline:
    """An ASGI app: every HTTP request is logged, authenticated, maybe faulted, then handled."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Callable[[Request], Response | None],
        log: RequestLog,
        clock: Clock,
        faults: FaultPlan | None,
        fault_exempt: Sequence[str],
        fault_responses: FaultResponses,
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.log = log
        self.clock = clock
        self.faults = faults
        self.fault_exempt = tuple(fault_exempt)
        self.fault_responses = fault_responses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: nothing to log or fault
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # handlers put the request's cost in request.state.cost
        outcome = _Outcome()
        arrived, started = self.clock.monotonic(), time.perf_counter()

        def record() -> None:
            if outcome.recorded:
                return
            outcome.recorded = True
            cost = scope["state"].get("cost")
            self.log.record(
                RequestEntry(
                    method=scope["method"],
                    path=scope["path"],
                    status=outcome.status,
                    cost=float(cost) if cost is not None else None,
                    latency_ms=(time.perf_counter() - started) * 1000.0,
                    at=arrived,
                    fault=outcome.fault.kind.value if outcome.fault else None,
                )
            )

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Record before the last byte leaves: a served client that has its answer must
                # find the request in the log (uvicorn answers on another thread).
                record()
            await send(message)

        try:
            await self._handle(scope, receive, tracking_send, outcome)
        finally:
            record()  # no complete response: a timeout, a dropped connection, an app error

    async def _handle(self, scope: Scope, receive: Receive, send: Send, outcome: _Outcome) -> None:
        denied = self.authenticate(Request(scope, receive))
        if denied is not None:
            await denied(scope, receive, send)
            return
        fault = self.faults.decide(scope["path"], self.fault_exempt) if self.faults else None
        outcome.fault = fault
        if fault is None:
            await self.app(scope, receive, send)
            return
        logger.debug("sandbox fault %s on %s %s", fault.kind, scope["method"], scope["path"])
        in_process = bool(scope.get(IN_PROCESS_KEY))
        if fault.kind is FaultKind.THROTTLED:
            assert self.faults is not None  # noqa: S101 - a fault implies a plan
            await self.fault_responses.throttled(self.faults.retry_after)(scope, receive, send)
        elif fault.kind is FaultKind.SERVER_ERROR:
            await self.fault_responses.server_error(fault.status or 500)(scope, receive, send)
        elif fault.kind is FaultKind.TIMEOUT:
            if in_process:
                raise httpx.ReadTimeout("sandbox: injected read timeout", request=_httpx_request(scope))
            assert self.faults is not None  # noqa: S101
            await self.clock.sleep(self.faults.timeout_seconds)
            await self.app(scope, receive, send)
        elif fault.kind is FaultKind.DROP:
            if in_process:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=_httpx_request(scope)
                )
            await _send_partial(await _capture(self.app, scope, receive), send)
        else:  # MALFORMED
            await _send_truncated(await _capture(self.app, scope, receive), send)


@dataclass
class _Captured:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> _Captured:
    """Run the handler, keeping its whole response instead of sending it."""
    captured = _Captured(200, [], b"")
    chunks: list[bytes] = []

    async def keep(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    captured.body = b"".join(chunks)
    return captured


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


async def _send_partial(response: _Captured, send: Send) -> None:
    """Promise the whole body, send part of it, then stop: uvicorn closes the socket."""
    body = response.body or b'{"data":null}'
    await send({"type": "http.response.start", "status": response.status,
                "headers": _with_length(response.headers, len(body))})
    await send({"type": "http.response.body", "body": body[: max(1, len(body) // 2)], "more_body": True})


async def _send_truncated(response: _Captured, send: Send) -> None:
    """A complete HTTP 200 whose JSON body stops halfway (a broken proxy or serializer)."""
    body = response.body or b'{"data":{"items":[1,2,3]}}'
    cut = body[: max(1, len(body) // 2)]
    headers = [(k, v) for k, v in response.headers if k.lower() != b"content-type"]
    headers.append((b"content-type", b"application/json; charset=utf-8"))
    await send({"type": "http.response.start", "status": 200, "headers": _with_length(headers, len(cut))})
    await send({"type": "http.response.body", "body": cut})


def _httpx_request(scope: Scope) -> httpx.Request:
    """An ``httpx.Request`` describing the ASGI request, for the exceptions clients inspect."""
    server = scope.get("server") or ("sandbox", None)
    host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"{scope.get('scheme', 'http')}://{host}{scope['path']}" + (f"?{query}" if query else "")
    return httpx.Request(scope["method"], url)
