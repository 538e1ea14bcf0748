"""The HTTP layer: classification, retries, pacing, redaction and logging, with respx and a ManualClock."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

import connector.http as http_module
from connector import __version__
from connector.clock import ManualClock
from connector.errors import (
    AuthError,
    ConnectorError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RemoteAPIError,
    RetriesExhaustedError,
    ServerError,
)
from connector.http import HttpClient, Outcome, RetryPolicy, classify, parse_retry_after
from connector.ratelimit import RateLimiter

BASE = "https://x.myshopify.com/admin/api/2025-01"
GRAPHQL = f"{BASE}/graphql.json"
TOKEN = "shpat_SECRET123456"
CONSUMER_SECRET = "cs_topsecret9876"
EMAIL = "jane.doe@example.com"
NO_JITTER = RetryPolicy(jitter=False)


@pytest.fixture
def clock() -> ManualClock:
    # Pinned here (not the shared conftest clock): the HTTP-date tests below are worked out from it.
    return ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def make_client(clock: ManualClock, router: respx.MockRouter | None = None, **kwargs: object) -> HttpClient:
    options: dict[str, object] = {
        "base_url": BASE,
        "platform": "shopify",
        "account": "x",
        "headers": {"X-Shopify-Access-Token": TOKEN},
        "clock": clock,
    }
    if router is not None:
        # Routing through the injected transport also spares each test building a TLS context.
        options["transport"] = httpx.MockTransport(router.async_handler)
    options.update(kwargs)
    return HttpClient(**options)  # type: ignore[arg-type]


# --- classify: a pure table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "exc", "expected", "outcome"),
    [
        (200, None, (), Outcome.OK),
        (204, None, (), Outcome.OK),
        (302, None, (), Outcome.OK),
        (404, None, (404,), Outcome.OK),
        (422, None, (404, 422), Outcome.OK),
        (429, None, (), Outcome.RATE_LIMITED),
        (408, None, (), Outcome.RETRY),
        (500, None, (), Outcome.RETRY),
        (502, None, (), Outcome.RETRY),
        (503, None, (), Outcome.RETRY),
        (599, None, (), Outcome.RETRY),
        (401, None, (), Outcome.AUTH),
        (403, None, (), Outcome.AUTH),
        (404, None, (), Outcome.NOT_FOUND),
        (400, None, (), Outcome.FAIL),
        (402, None, (), Outcome.FAIL),
        (422, None, (), Outcome.FAIL),
        (423, None, (), Outcome.FAIL),
        (600, None, (), Outcome.FAIL),
        (None, None, (), Outcome.FAIL),
        (None, httpx.ReadTimeout("read"), (), Outcome.RETRY),
        (None, httpx.ConnectTimeout("connect"), (), Outcome.RETRY),
        (None, httpx.PoolTimeout("pool"), (), Outcome.RETRY),
        (None, httpx.ConnectError("refused"), (), Outcome.RETRY),
        (None, httpx.ReadError("reset"), (), Outcome.RETRY),
        (None, httpx.RemoteProtocolError("dropped"), (), Outcome.RETRY),
        (None, httpx.UnsupportedProtocol("ftp"), (), Outcome.FAIL),
        (None, httpx.LocalProtocolError("bad header"), (), Outcome.FAIL),
        (None, ValueError("bug"), (), Outcome.FAIL),
        (200, httpx.ReadTimeout("read"), (), Outcome.RETRY),  # the exception wins
    ],
)
def test_classify(
    status: int | None, exc: BaseException | None, expected: tuple[int, ...], outcome: Outcome
) -> None:
    assert classify(status, exc, expected=expected) is outcome


# --- parse_retry_after ----------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0),
        ("Wed, 31 Dec 2025 23:59:00 GMT", 0.0),  # in the past: retry now, never a negative wait
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


# --- retries --------------------------------------------------------------------------------------


async def test_429_with_retry_after_waits_exactly_that_long(
    api: respx.MockRouter, clock: ManualClock
) -> None:
    route = api.post("/graphql.json").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": 1})]
    )
    async with make_client(clock, api) as client:
        response = await client.post("/graphql.json", json={"query": "{ shop { name } }"})
    assert response.json() == {"ok": 1}
    assert route.call_count == 2
    assert clock.sleeps == [7.0]
    assert client.stats.requests == 2
    assert client.stats.retries == 1
    assert client.stats.rate_limited == 1
    assert client.stats.by_status == {429: 1, 200: 1}
    # The body is re-sent on the retry, not lost with the first request.
    assert [json.loads(call.request.content) for call in route.calls] == [{"query": "{ shop { name } }"}] * 2


async def test_retry_after_as_http_date(api: respx.MockRouter, clock: ManualClock) -> None:
    # ManualClock starts at 2026-01-01T00:00:00Z, a Thursday.
    api.get("/shop.json").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"}),
            httpx.Response(200),
        ]
    )
    async with make_client(clock, api) as client:
        await client.get("/shop.json")
    assert clock.sleeps == [30.0]


async def test_retry_after_is_capped(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get("/shop.json").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "9999"}), httpx.Response(200)]
    )
    policy = RetryPolicy(max_retry_after=600, max_total_wait=1000)
    async with make_client(clock, api, retry=policy) as client:
        await client.get("/shop.json")
    assert clock.sleeps == [600.0]


async def test_5xx_is_retried_with_exponential_backoff(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/shop.json").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"shop": 1})]
    )
    async with make_client(clock, api, retry=NO_JITTER) as client:
        response = await client.get("/shop.json")
    assert response.status_code == 200
    assert route.call_count == 3
    assert clock.sleeps == [0.5, 1.0]  # initial_wait, then doubled


async def test_jittered_backoff_stays_under_the_cap(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get("/shop.json").mock(side_effect=[httpx.Response(500)] * 5 + [httpx.Response(200)])
    async with make_client(clock, api, retry=RetryPolicy(initial_wait=1, max_wait=4)) as client:
        await client.get("/shop.json")
    caps = [1, 2, 4, 4, 4]
    assert len(clock.sleeps) == 5
    assert all(0 <= slept <= cap for slept, cap in zip(clock.sleeps, caps, strict=True))


async def test_backoff_without_jitter_is_capped_at_max_wait(
    api: respx.MockRouter, clock: ManualClock
) -> None:
    api.get("/shop.json").mock(side_effect=[httpx.Response(500)] * 3 + [httpx.Response(200)])
    policy = RetryPolicy(initial_wait=10, max_wait=15, jitter=False)
    async with make_client(clock, api, retry=policy) as client:
        await client.get("/shop.json")
    assert clock.sleeps == [10.0, 15.0, 15.0]


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ConnectError])
async def test_network_failures_are_retried(
    api: respx.MockRouter, clock: ManualClock, exc: type[Exception]
) -> None:
    route = api.get("/shop.json").mock(side_effect=[exc("boom"), httpx.Response(200, json={})])
    async with make_client(clock, api, retry=NO_JITTER) as client:
        response = await client.get("/shop.json")
    assert response.status_code == 200
    assert route.call_count == 2
    assert clock.sleeps == [0.5]
    assert client.stats.network_errors == 1
    assert client.stats.by_status == {200: 1}


async def test_gives_up_on_429_after_max_attempts(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/shop.json").mock(return_value=httpx.Response(429, headers={"Retry-After": "2"}))
    async with make_client(clock, api, retry=RetryPolicy(max_attempts=4)) as client:
        with pytest.raises(RetriesExhaustedError) as info:
            await client.get("/shop.json")
    err = info.value
    assert route.call_count == 4
    assert err.attempts == 4
    assert isinstance(err.last_error, RateLimitedError)
    assert err.last_error.status == 429
    assert err.last_error.retry_after == 2.0
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert str(err) == (
        f"shopify: gave up on GET {BASE}/shop.json after 4 attempt(s); last: 429 Too Many Requests"
    )


async def test_gives_up_on_5xx_after_default_attempts(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/shop.json").mock(return_value=httpx.Response(503))
    async with make_client(clock, api) as client:
        with pytest.raises(RetriesExhaustedError) as info:
            await client.get("/shop.json")
    assert route.call_count == 6
    assert info.value.attempts == 6
    assert isinstance(info.value.last_error, ServerError)
    assert info.value.last_error.status == 503
    assert len(clock.sleeps) == 5
    assert all(0 <= slept <= 60 for slept in clock.sleeps)
    assert client.stats.retries == 5


async def test_gives_up_on_timeouts_with_a_network_error(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get("/shop.json").mock(side_effect=httpx.ReadTimeout("timed out"))
    async with make_client(clock, api, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(RetriesExhaustedError) as info:
            await client.get("/shop.json")
    assert isinstance(info.value.last_error, NetworkError)
    assert info.value.last_error.url == f"{BASE}/shop.json"
    assert str(info.value).endswith("last: ReadTimeout")
    assert client.stats.network_errors == 2


async def test_max_total_wait_stops_before_overrunning(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/shop.json").mock(return_value=httpx.Response(429, headers={"Retry-After": "100"}))
    policy = RetryPolicy(max_attempts=10, max_total_wait=250)
    async with make_client(clock, api, retry=policy) as client:
        with pytest.raises(RetriesExhaustedError) as info:
            await client.get("/shop.json")
    # 100 + 100 fits in 250; a third wait would make 300, so it gives up after the third attempt.
    assert clock.sleeps == [100.0, 100.0]
    assert route.call_count == 3
    assert info.value.attempts == 3


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(400, RemoteAPIError), (401, AuthError), (403, AuthError), (404, NotFoundError), (422, RemoteAPIError)],
)
async def test_client_errors_are_not_retried(
    api: respx.MockRouter, clock: ManualClock, status: int, error_class: type[RemoteAPIError]
) -> None:
    route = api.post("/graphql.json").mock(return_value=httpx.Response(status, json={"errors": "nope"}))
    async with make_client(clock, api) as client:
        with pytest.raises(RemoteAPIError) as info:
            await client.post("/graphql.json", json={})
    err = info.value
    assert type(err) is error_class
    assert route.call_count == 1
    assert clock.sleeps == []
    assert (err.status, err.method, err.url, err.platform) == (status, "POST", GRAPHQL, "shopify")
    assert err.excerpt == '{"errors":"nope"}'
    assert str(err) == f'shopify API error: {status} POST {GRAPHQL}: {{"errors":"nope"}}'


async def test_expected_status_is_returned_not_raised(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/customers/1.json").mock(return_value=httpx.Response(404, json={"errors": "Not Found"}))
    async with make_client(clock, api) as client:
        response = await client.get("/customers/1.json", expected=(404,))
    assert response.status_code == 404
    assert response.json() == {"errors": "Not Found"}
    assert route.call_count == 1


async def test_unusable_request_fails_once_without_retry(clock: ManualClock) -> None:
    async with make_client(clock) as client:
        with pytest.raises(ConnectorError, match="UnsupportedProtocol") as info:
            await client.get("ftp://example.com/file")
    assert not isinstance(info.value, RetriesExhaustedError)
    assert clock.sleeps == []
    assert client.stats.requests == 1


# --- the limiter ----------------------------------------------------------------------------------


async def test_every_attempt_acquires_its_cost(api: respx.MockRouter, clock: ManualClock) -> None:
    api.post("/graphql.json").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    limiter = RateLimiter(rate=1, capacity=2, clock=clock)
    async with make_client(clock, api, limiter=limiter, retry=NO_JITTER) as client:
        await client.post("/graphql.json", json={}, cost=2)
    # Attempt 1 empties the bucket; backoff 0.5 s refills 0.5; attempt 2 waits 1.5 s for the rest.
    assert clock.sleeps == [0.5, 1.5]


async def test_429_pauses_the_whole_account(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get("/a.json").mock(return_value=httpx.Response(429, headers={"Retry-After": "7"}))
    other = api.get("/b.json").mock(return_value=httpx.Response(200))
    limiter = RateLimiter(rate=10, capacity=10, clock=clock)
    async with make_client(clock, api, limiter=limiter, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(RetriesExhaustedError):
            await client.get("/a.json")
        assert clock.sleeps == []
        await client.get("/b.json")  # another request on the same account waits out the 429
    assert clock.sleeps == [7.0]
    assert other.call_count == 1


async def test_429_retry_with_limiter_sleeps_only_once(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get("/shop.json").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    limiter = RateLimiter(rate=10, capacity=10, clock=clock)
    async with make_client(clock, api, limiter=limiter) as client:
        await client.get("/shop.json")
    assert clock.sleeps == [7.0]


# --- secrets, logging, headers --------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    return [s for s in (TOKEN, CONSUMER_SECRET, EMAIL) if s in text]


@pytest.mark.parametrize("status", [400, 500])
async def test_secrets_and_emails_never_leak(
    api: respx.MockRouter, clock: ManualClock, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.DEBUG, logger="connector.http")
    body = {"errors": f"bad token {TOKEN} or secret {CONSUMER_SECRET} for customer {EMAIL}"}
    api.get("/customers.json").mock(return_value=httpx.Response(status, json=body))
    async with make_client(clock, api, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(ConnectorError) as info:
            await client.get("/customers.json", params={"consumer_secret": CONSUMER_SECRET, "limit": 5})
    err = info.value
    remote = err.last_error if isinstance(err, RetriesExhaustedError) else err
    assert isinstance(remote, RemoteAPIError)
    surfaces = [
        str(err),
        repr(err),
        repr(err.args),
        str(remote),
        repr(remote),
        remote.url,
        remote.excerpt,
        repr(client),
        repr(client.redactor),
    ]
    surfaces += [record.getMessage() for record in caplog.records]
    surfaces += [repr(record.__dict__) for record in caplog.records]
    assert caplog.records, "expected log lines to check"
    assert [leak for text in surfaces for leak in _leaks(text)] == []
    # Redacted, not dropped: the reader still sees what went wrong and for whom, roughly.
    assert remote.url == f"{BASE}/customers.json?consumer_secret=***&limit=5"
    assert "j***@example.com" in remote.excerpt
    assert "bad token ***" in remote.excerpt


async def test_api_token_header_is_a_secret_automatically(clock: ManualClock) -> None:
    client = HttpClient(
        base_url="https://acct.api-us1.com/api/3",
        platform="activecampaign",
        account="acct",
        headers={"Api-Token": "abcd-1234-efgh"},
        clock=clock,
    )
    with respx.mock(base_url="https://acct.api-us1.com/api/3") as mock:
        mock.get("/contacts").mock(return_value=httpx.Response(400, text="token abcd-1234-efgh was rejected"))
        with pytest.raises(RemoteAPIError) as info:
            await client.get("/contacts")
    await client.aclose()
    assert "abcd-1234-efgh" not in str(info.value)
    assert info.value.excerpt == "token *** was rejected"


async def test_logs_one_debug_line_per_attempt_and_a_warning_per_retry(
    api: respx.MockRouter, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="connector.http")
    api.get("/shop.json").mock(side_effect=[httpx.Response(503), httpx.Response(200, text="secret body")])
    async with make_client(clock, api, retry=NO_JITTER) as client:
        await client.get("/shop.json")
    records = [r for r in caplog.records if r.name == "connector.http"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.DEBUG, f"GET {BASE}/shop.json -> 503 in 0 ms (attempt 1)"),
        (
            logging.WARNING,
            f"GET {BASE}/shop.json failed (503 Service Unavailable); retrying in 0.50 s (attempt 2 of 6)",
        ),
        (logging.DEBUG, f"GET {BASE}/shop.json -> 200 in 0 ms (attempt 2)"),
    ]
    assert all((r.platform, r.account) == ("shopify", "x") for r in records)  # type: ignore[attr-defined]
    assert not any("secret body" in r.getMessage() for r in records)


async def test_user_agent_and_explicit_timeouts_are_sent(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/shop.json").mock(return_value=httpx.Response(200))
    async with make_client(clock, api) as client:
        await client.get("/shop.json")
    request = route.calls.last.request
    assert (
        request.headers["User-Agent"]
        == f"connector/{__version__} (+https://github.com/connector-dev/connector)"
    )
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.extensions["timeout"] == {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 30.0}


async def test_custom_timeout_and_user_agent(api: respx.MockRouter, clock: ManualClock) -> None:
    route = api.get("/shop.json").mock(return_value=httpx.Response(200))
    timeout = httpx.Timeout(5.0)
    async with make_client(clock, api, timeout=timeout, user_agent="probe/1") as client:
        await client.get("/shop.json")
    request = route.calls.last.request
    assert request.headers["User-Agent"] == "probe/1"
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}


async def test_credentials_stay_off_other_origins(clock: ManualClock) -> None:
    # e.g. a Shopify bulk-operation result URL on cloud storage must not receive the shop's token.
    with respx.mock() as mock:
        own = mock.get(f"{BASE}/shop.json").mock(return_value=httpx.Response(200))
        foreign = mock.get("https://storage.googleapis.com/bulk/123.jsonl").mock(
            return_value=httpx.Response(200)
        )
        async with make_client(clock, mock, auth=httpx.BasicAuth("user", "pass-word")) as client:
            await client.get("/shop.json")
            await client.get("https://storage.googleapis.com/bulk/123.jsonl")
    assert own.calls.last.request.headers["X-Shopify-Access-Token"] == TOKEN
    assert own.calls.last.request.headers["Authorization"].startswith("Basic ")
    foreign_headers = foreign.calls.last.request.headers
    assert "X-Shopify-Access-Token" not in foreign_headers
    assert "Authorization" not in foreign_headers
    assert foreign_headers["User-Agent"].startswith("connector/")


async def test_transport_can_be_injected(clock: ManualClock) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"via": "transport"})

    async with make_client(clock, transport=httpx.MockTransport(handler)) as client:
        response = await client.get("/shop.json", params={"fields": "id"})
    assert response.json() == {"via": "transport"}
    assert seen == [f"{BASE}/shop.json?fields=id"]


async def test_on_response_sees_every_response(api: respx.MockRouter, clock: ManualClock) -> None:
    api.get("/contacts").mock(
        side_effect=[
            httpx.Response(429, headers={"x-sib-ratelimit-remaining": "0"}),
            httpx.Response(200, headers={"x-sib-ratelimit-remaining": "9"}),
        ]
    )
    remaining: list[str] = []
    async with make_client(
        clock,
        api,
        on_response=lambda r: remaining.append(r.headers["x-sib-ratelimit-remaining"]),
        retry=NO_JITTER,
    ) as client:
        await client.get("/contacts")
    assert remaining == ["0", "9"]


def test_repr_shows_account_not_secrets(clock: ManualClock) -> None:
    client = make_client(clock, base_url="https://ck_user:pa55word@shop.example/wp-json/wc/v3")
    assert repr(client) == (
        "HttpClient(platform='shopify', account='x', base_url='https://***@shop.example/wp-json/wc/v3/')"
    )
    assert "pa55word" not in repr(client)
    assert client.redactor.text("echo pa55word and shpat_SECRET123456") == "echo *** and ***"


def test_all_is_pinned() -> None:
    assert sorted(http_module.__all__) == [
        "DEFAULT_TIMEOUT",
        "HttpClient",
        "Outcome",
        "RequestStats",
        "RetryPolicy",
        "USER_AGENT",
        "classify",
        "parse_retry_after",
    ]


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_wait=-1)
