"""The Brevo client's budgets: 50,000 contacts within the limits, 429 paced by Brevo's reset, retries capped.

The 50,000-contact push runs on a ManualClock against the sandbox with the General tier's limits
(contacts 10 a second, every other endpoint 100 an hour, sliding windows) and slow imports, so the
sink must wait for processes across simulated minutes. Its plan is built with ``model_construct``
(the 100,000 email validations of building it the usual way would take seconds and test nothing
here); every email is already in normal form.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from connector.clock import ManualClock
from connector.errors import RetriesExhaustedError
from connector.http import RetryPolicy
from connector.models import ConsentState
from connector.protocols import ContactChange, ContactState, Plan, PushStatus, SchemaSpec
from connectors.brevo import BrevoSettings, BrevoSink
from connectors.brevo.client import BrevoClient
from connectors.brevo.sandbox import SANDBOX_KEY, create_sandbox, limits_of

BASE = "https://api.brevo.test/v3"
N = 50_000


def change(i: int) -> ContactChange:
    email = f"c{i}@example.com"
    tags = frozenset({f"T{i % 3}", "All"})
    desired = ContactState.model_construct(email=email, fields={"Score": i}, tags=tags, lists=frozenset({"Customers"}),
                                           consent=ConsentState.SUBSCRIBED)
    return ContactChange.model_construct(person_id=f"p{i}", email=email, previous_email=None, create=True,
                                         fields={"Score": i}, tags_add=tags, tags_remove=frozenset(),
                                         lists_subscribe=frozenset({"Customers"}), lists_unsubscribe=frozenset(),
                                         consent=ConsentState.SUBSCRIBED, desired=desired)


async def test_a_50000_contact_push_stays_within_every_budget(clock: ManualClock) -> None:
    # Imports take 2 minutes each plus 10 ms a row, one after another: the sink must wait ~1 h.
    sandbox = create_sandbox(clock=clock, import_seconds=(120.0, 0.01))
    settings = BrevoSettings(api_key=SANDBOX_KEY, base_url="http://sandbox.test/v3", import_max_bytes=100_000)
    sink = BrevoSink(settings, name="bench", transport=sandbox.transport(), clock=clock)
    await sink.ensure_schema(SchemaSpec(lists=frozenset({"Customers"}), tags=frozenset({"T0", "T1", "T2", "All"}),
                                        fields={"Score": "number"}))
    plan = Plan(sink="bench", created_at=clock.now(), changes=tuple(change(i) for i in range(N)))
    started = clock.monotonic()
    statuses: dict[PushStatus, int] = {}
    async for results in sink.apply(plan):
        for result in results:
            statuses[result.status] = statuses.get(result.status, 0) + 1
    await sink.aclose()
    assert statuses == {PushStatus.CONFIRMED: N}
    imports = sandbox.log.count("POST", "/v3/contacts/import")
    polls = sandbox.log.count("GET", "/v3/processes/")
    assert imports >= 30  # ~70 bytes a row, 100 kB a body
    assert sandbox.log.count(status=429) == 0
    limits = limits_of(sandbox)
    assert limits["other"].windows[0].peak <= 100  # never more than 100 process reads in any hour
    assert limits["contacts"].windows[0].peak <= 10  # nor more than 10 contacts requests in any second
    # The queue runs 2 min + 10 ms a row per import: at least imports * 120 s + 500 s in all.
    assert clock.monotonic() - started >= imports * 120 + 500
    assert polls < imports + 25  # one read per finished import, plus the backoff's few


@pytest.fixture
def client(clock: ManualClock) -> Any:
    settings = BrevoSettings(api_key="xkeysib-secret-key", base_url=BASE)
    return BrevoClient(settings, account="acme", clock=clock,
                       retry=RetryPolicy(max_attempts=3, initial_wait=1.0, jitter=False))


@respx.mock
async def test_a_429_pauses_that_budget_until_brevos_reset(client: BrevoClient, clock: ManualClock) -> None:
    route = respx.get(f"{BASE}/processes/7").mock(side_effect=[
        httpx.Response(429, json={"code": "too_many_requests", "message": "slow down"},
                       headers={"x-sib-ratelimit-limit": "100", "x-sib-ratelimit-remaining": "0",
                                "x-sib-ratelimit-reset": "1200"}),
        httpx.Response(200, json={"id": 7, "status": "completed", "name": "IMPORTUSER"}),
    ])
    process = await client.process(7)
    assert process.status == "completed" and route.call_count == 2
    # The backoff waited 1 s; the budget then held the retry until Brevo's reset, 1,200 s after the 429.
    assert sum(clock.sleeps) == pytest.approx(1200, abs=1)
    contacts = respx.get(f"{BASE}/contacts/lists").mock(return_value=httpx.Response(200, json={"lists": [],
                                                                                               "count": 0}))
    await client.lists()
    assert contacts.call_count == 1 and sum(clock.sleeps) == pytest.approx(1200, abs=1)  # other budget untouched


@respx.mock
async def test_5xx_is_retried_then_a_clear_error_at_the_cap(client: BrevoClient, clock: ManualClock) -> None:
    respx.get(f"{BASE}/processes/7").mock(return_value=httpx.Response(503, json={"code": "x", "message": "down"}))
    with pytest.raises(RetriesExhaustedError) as caught:
        await client.process(7)
    message = str(caught.value)
    assert message == f"brevo: gave up on GET {BASE}/processes/7 after 3 attempt(s); last: 503 Service Unavailable"
    assert caught.value.attempts == 3 and "xkeysib-secret-key" not in repr(client) + message
