"""HttpClient.stream: incremental bodies with the same pacing, retries (to open), redaction and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from connector.clock import ManualClock
from connector.errors import AuthError, NetworkError, RetriesExhaustedError
from connector.http import HttpClient, RetryPolicy
from connector.ratelimit import RateLimiter

BASE = "https://x.myshopify.com/admin/api/2025-01"
TOKEN = "shpat_SECRET123456"
EXPORT = "https://storage.example.com/bulk/export.jsonl?X-Goog-Signature=sig0123456789abcdef"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def make_client(clock: ManualClock, router: respx.MockRouter, **kwargs: object) -> HttpClient:
    options: dict[str, object] = {
        "base_url": BASE,
        "platform": "shopify",
        "account": "x",
        "headers": {"X-Shopify-Access-Token": TOKEN},
        "clock": clock,
        "transport": httpx.MockTransport(router.async_handler),
        "retry": RetryPolicy(jitter=False),
    }
    options.update(kwargs)
    return HttpClient(**options)  # type: ignore[arg-type]


class _Chunks(httpx.AsyncByteStream):
    """A body delivered in pieces, optionally breaking off after them."""

    def __init__(self, chunks: list[bytes], *, then_fail: bool = False) -> None:
        self.chunks = chunks
        self.then_fail = then_fail
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.then_fail:
            raise httpx.ReadError("connection reset by peer")


async def test_streams_lines_without_reading_the_body_first(api: respx.MockRouter, clock: ManualClock) -> None:
    body = _Chunks([b'{"a":1}\n{"a"', b':2}\n', b'{"a":3}\n'])
    api.get(EXPORT).mock(return_value=httpx.Response(200, stream=body))
    async with make_client(clock, api) as client, client.stream("GET", EXPORT) as response:
        assert body.sent == 0  # nothing read until the caller iterates
        lines = [line async for line in response.aiter_lines()]
    assert lines == ['{"a":1}', '{"a":2}', '{"a":3}']
    assert client.stats.requests == 1


async def test_foreign_origin_gets_no_token(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get(EXPORT).mock(return_value=httpx.Response(200, content=b"x\n"))
    async with make_client(clock, api) as client, client.stream("GET", EXPORT) as response:
        await response.aread()
    sent = route.calls.last.request
    assert "x-shopify-access-token" not in {k.lower() for k in sent.headers}


async def test_same_origin_keeps_the_token(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get(f"{BASE}/file").mock(return_value=httpx.Response(200, content=b"x\n"))
    async with make_client(clock, api) as client, client.stream("GET", "/file") as response:
        await response.aread()
    assert route.calls.last.request.headers["X-Shopify-Access-Token"] == TOKEN


async def test_retries_opening_on_5xx_and_timeouts(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get(EXPORT).mock(
        side_effect=[httpx.Response(503), httpx.ConnectTimeout("slow"), httpx.Response(200, content=b"ok\n")]
    )
    async with make_client(clock, api) as client, client.stream("GET", EXPORT) as response:
        assert [line async for line in response.aiter_lines()] == ["ok"]
    assert route.call_count == 3
    assert clock.sleeps == [0.5, 1.0]  # the core policy's backoff, without jitter


async def test_a_body_that_breaks_off_is_not_retried(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get(EXPORT).mock(return_value=httpx.Response(200, stream=_Chunks([b"one\n"], then_fail=True)))
    seen: list[str] = []
    async with make_client(clock, api) as client:
        with pytest.raises(NetworkError) as caught:
            async with client.stream("GET", EXPORT, secrets=["sig0123456789abcdef"]) as response:
                async for line in response.aiter_lines():
                    seen.append(line)
        assert route.call_count == 1
    assert seen == ["one"]
    assert "broke off" in str(caught.value)
    assert "sig0123456789abcdef" not in str(caught.value)  # a pre-signed URL's signature is a credential


async def test_error_status_is_mapped_with_a_redacted_excerpt(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get(f"{BASE}/private").mock(return_value=httpx.Response(403, text=f"denied for {TOKEN} jane.doe@example.com"))
    async with make_client(clock, api) as client:
        with pytest.raises(AuthError) as caught:
            async with client.stream("GET", "/private"):
                pass  # never reached
    message = str(caught.value)
    assert TOKEN not in message and "jane.doe@example.com" not in message
    assert caught.value.status == 403


async def test_gives_up_after_the_policy(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get(EXPORT).mock(return_value=httpx.Response(500))
    async with make_client(clock, api, retry=RetryPolicy(max_attempts=2, jitter=False)) as client:
        with pytest.raises(RetriesExhaustedError):
            async with client.stream("GET", EXPORT):
                pass
    assert len(clock.sleeps) == 1


async def test_each_attempt_to_open_takes_its_cost(api: respx.MockRouter, clock: ManualClock) -> None:
    limiter = RateLimiter(rate=1, capacity=2, clock=clock)
    api.get(EXPORT).mock(side_effect=[httpx.Response(502), httpx.Response(200, content=b"x")])
    async with make_client(clock, api, limiter=limiter) as client, client.stream("GET", EXPORT, cost=2) as response:
        await response.aread()
    # 2 tokens for the first attempt, 0.5 s of backoff refills 0.5, the second waits 1.5 s more.
    assert clock.sleeps == [0.5, 1.5]
