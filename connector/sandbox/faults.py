"""Fault injection: what goes wrong on the wire, reproducibly.

A :class:`FaultPlan` decides per request, from ``random.Random(seed)``, whether to inject one of:

* ``429``: too many requests, with ``Retry-After`` and the platform's own body;
* ``5xx``: 500, 502 or 503;
* ``timeout``: a response slower than the client's timeout;
* ``drop``: the connection closes before the whole response arrived;
* ``malformed``: HTTP 200 with a truncated JSON body.

Requests are the same in both ways a sandbox runs, but transports are not, so two effects differ:

* in-process (``httpx.ASGITransport``, which ignores client timeouts and propagates app
  exceptions to the client), a timeout is raised as ``httpx.ReadTimeout`` and a dropped
  connection as ``httpx.RemoteProtocolError``: exactly what the client would see;
* served (uvicorn), a timeout really sleeps ``timeout_seconds`` on the clock before answering, and
  a drop sends the headers (with the full ``Content-Length``) and part of the body, then returns
  without finishing, which makes uvicorn close the socket.

Exempt paths (e.g. Shopify's bulk-result download, which is a storage URL in reality) take no
draw from the generator, so exempting them never shifts the fault sequence of the API calls.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from starlette.responses import JSONResponse, Response

__all__ = ["Fault", "FaultKind", "FaultPlan", "FaultResponses"]

SERVER_ERRORS = (500, 502, 503)


class FaultKind(StrEnum):
    THROTTLED = "429"
    SERVER_ERROR = "5xx"
    TIMEOUT = "timeout"
    DROP = "drop"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Fault:
    """One decision: the kind, and the status for 429/5xx."""

    kind: FaultKind
    status: int | None = None


def _default_throttled(retry_after: int) -> Response:
    return JSONResponse({"errors": "Too Many Requests"}, status_code=429, headers={"Retry-After": str(retry_after)})


def _default_server_error(status: int) -> Response:
    return JSONResponse({"errors": "Internal Server Error" if status == 500 else "Service Unavailable"},
                        status_code=status)


@dataclass(frozen=True)
class FaultResponses:
    """How a platform words its 429 and 5xx answers (each sandbox passes its own)."""

    throttled: Callable[[int], Response] = _default_throttled
    server_error: Callable[[int], Response] = _default_server_error


@dataclass
class FaultPlan:
    """Which faults to inject, at which rates, from which seed.

    Args:
        seed: seeds the decision generator; the same seed and the same requests give the same faults.
        rate_429 / rate_5xx / rate_timeout / rate_drop / rate_malformed: probability per request of
            each fault (their sum must not exceed 1).
        timeout_seconds: how long a "slow" response takes when served (past any sane client timeout).
        retry_after: the ``Retry-After`` seconds sent with an injected 429.
        exempt_paths: path prefixes never faulted; None means the platform's default exemptions
            (e.g. Shopify's bulk downloads), ``()`` means none at all.
    """

    seed: int = 0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    rate_drop: float = 0.0
    rate_malformed: float = 0.0
    timeout_seconds: float = 65.0
    retry_after: int = 1
    exempt_paths: Sequence[str] | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rates = self._rates()
        if any(not 0.0 <= rate <= 1.0 for _, rate in rates) or sum(rate for _, rate in rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must each be in [0, 1] and sum to at most 1")
        if self.timeout_seconds < 0 or self.retry_after < 0:
            raise ValueError("timeout_seconds and retry_after must not be negative")
        self.reset()

    def _rates(self) -> list[tuple[FaultKind, float]]:
        return [
            (FaultKind.THROTTLED, self.rate_429),
            (FaultKind.SERVER_ERROR, self.rate_5xx),
            (FaultKind.TIMEOUT, self.rate_timeout),
            (FaultKind.DROP, self.rate_drop),
            (FaultKind.MALFORMED, self.rate_malformed),
        ]

    def reset(self) -> None:
        """Start the decision sequence again from the seed."""
        # Not for security: a seeded generator is the point, so that a faulty run can be replayed.
        self._rng = random.Random(self.seed)  # noqa: S311

    def is_exempt(self, path: str, default_exempt: Sequence[str] = ()) -> bool:
        """Whether ``path`` is never faulted under this plan."""
        prefixes = default_exempt if self.exempt_paths is None else self.exempt_paths
        return any(path.startswith(prefix) for prefix in prefixes)

    def decide(self, path: str, default_exempt: Sequence[str] = ()) -> Fault | None:
        """The fault to inject into the request for ``path``, or None.

        Every non-exempt request takes exactly one draw (plus one more for a 5xx status), so the
        sequence depends only on the seed and the order of requests.
        """
        if self.is_exempt(path, default_exempt):
            return None
        draw = self._rng.random()
        threshold = 0.0
        for kind, rate in self._rates():
            threshold += rate
            if draw < threshold:
                status = None
                if kind is FaultKind.THROTTLED:
                    status = 429
                elif kind is FaultKind.SERVER_ERROR:
                    status = self._rng.choice(SERVER_ERRORS)
                return Fault(kind, status)
        return None
