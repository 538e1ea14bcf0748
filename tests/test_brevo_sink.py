"""The Brevo sink against the in-process sandbox: every request checked against Brevo's OpenAPI document.

Expected values are worked out by hand from the plans below: attribute names from the documented
mapping ("Total spent" → ``TOTAL_SPENT``), list ids in creation order (``Customers`` 1,
``Newsletter`` 2, ``VIP`` 3 after the folder), SMS digits as Brevo answers them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connector.clock import ManualClock
from connector.errors import ConfigError
from connector.models import ConsentState
from connector.plan import diff_all
from connector.protocols import ContactState, Plan, PushResult, PushStatus, SchemaSpec, Sink
from connectors.brevo import BrevoSettings, BrevoSink
from connectors.brevo.names import attribute_map, attribute_name, sms_number
from connectors.brevo.sandbox import SANDBOX_KEY, account_of, create_sandbox
from tests.openapi_contract import SPECS, OpenApiContract
from tests.test_brevo_sandbox import unexpected

SPEC = SchemaSpec(
    lists=frozenset({"Customers", "Newsletter"}),
    tags=frozenset({"Segment – Champions", "Segment – New"}),
    fields={"Total spent": "number", "Last order": "date", "Lifecycle stage": "dropdown", "first_name": "text",
            "phone": "text", "Interests": "multiselect"},
    options={"Interests": ("Tea", "Coffee")},
)


class Recording(httpx.AsyncBaseTransport):
    """Keeps every request (method, path, body) the sink sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path, await request.aread()))
        return await self.inner.handle_async_request(request)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [json.loads(b) for m, p, b in self.sent if m == method and p == path]


class Harness:
    def __init__(self, clock: ManualClock, **settings: Any) -> None:
        self.clock = clock
        self.sandbox = create_sandbox(clock=clock, import_seconds=(30.0, 0.01))
        contract = OpenApiContract.load(SPECS / "brevo/brevo_api_v3_openapi.yml", "http://sandbox.test/v3")
        self.checked = contract.checking(self.sandbox.transport())
        self.transport = Recording(self.checked)
        self.settings = BrevoSettings(api_key=SANDBOX_KEY, base_url="http://sandbox.test/v3", **settings)
        self.sink = BrevoSink(self.settings, name="brevo-test", transport=self.transport, clock=clock)

    @property
    def account(self) -> Any:
        return account_of(self.sandbox)

    def contact(self, email: str) -> Any:
        return self.account.find(email, "email_id")

    async def push(self, people: Sequence[tuple[str, ContactState]],
                   pushed: dict[str, ContactState] | None = None) -> dict[str, PushResult]:
        plan = Plan(sink="brevo-test", created_at=self.clock.now(), changes=tuple(diff_all(people, pushed)))
        results: dict[str, PushResult] = {}
        async for batch in self.sink.apply(plan):
            for result in batch:
                assert result.person_id not in results
                results[result.person_id] = result
        assert set(results) == {c.person_id for c in plan.changes}
        return results


def person(email: str, **kw: Any) -> ContactState:
    values: dict[str, Any] = {"consent": ConsentState.SUBSCRIBED, "lists": frozenset({"Customers"})}
    return ContactState(email=email, **{**values, **kw})


@pytest.fixture
async def h(clock: ManualClock) -> Any:
    harness = Harness(clock, tag_lists={"Segment – Champions": "VIP"})
    await harness.sink.ensure_schema(SPEC)
    yield harness
    await harness.sink.aclose()
    assert unexpected(harness.checked.violations) == [], harness.checked.violations


def test_attribute_names_are_documented_and_collisions_refused() -> None:
    assert attribute_name("Total spent") == "TOTAL_SPENT"
    assert attribute_name("Région préférée") == "REGION_PREFEREE"
    assert attribute_name("  2nd  address / line ") == "F_2ND_ADDRESS_LINE"
    with pytest.raises(ConfigError, match="TOTAL_SPENT"):
        attribute_map(["Total spent", "Total-spent"], first_name="FIRSTNAME", last_name="LASTNAME", tags="SEGMENTS")
    with pytest.raises(ConfigError, match="EMAIL"):
        attribute_map(["Email"], first_name="FIRSTNAME", last_name="LASTNAME", tags="SEGMENTS")
    assert sms_number("+33612345678") == ("+33612345678", None)
    assert sms_number("+1555")[0] is None and sms_number("+1555")[1]


def test_the_sink_is_a_sink(clock: ManualClock) -> None:
    assert isinstance(Harness(clock).sink, Sink)


async def test_ensure_schema_is_idempotent_and_leaves_the_rest_alone(h: Harness) -> None:
    account = h.account
    assert account.folders == {1: "connector"}
    assert {i["name"] for i in account.lists.values()} == {"Customers", "Newsletter", "VIP"}
    types = {n: (a.type, a.options) for n, a in account.attributes.items()}
    assert types["TOTAL_SPENT"] == ("float", [])
    assert types["LAST_ORDER"] == ("date", [])
    assert types["LIFECYCLE_STAGE"] == ("text", [])
    assert types["INTERESTS"] == ("multiple-choice", ["Coffee", "Tea"])
    assert types["SEGMENTS"] == ("multiple-choice", ["Segment – Champions", "Segment – New"])
    posts = len([s for s in h.transport.sent if s[0] in ("POST", "PUT")])
    await h.sink.ensure_schema(SPEC)
    assert len([s for s in h.transport.sent if s[0] in ("POST", "PUT")]) == posts  # nothing new to create
    more = SchemaSpec(lists=SPEC.lists, tags=SPEC.tags | {"Segment – Lapsed"}, fields=SPEC.fields,
                      options={"Interests": ("Tea", "Cocoa")})
    await h.sink.ensure_schema(more)
    assert h.transport.bodies("PUT", "/v3/contacts/attributes/normal/INTERESTS") == [
        {"multiCategoryOptions": ["Cocoa"]}]
    assert h.transport.bodies("PUT", "/v3/contacts/attributes/normal/SEGMENTS") == [
        {"multiCategoryOptions": ["Segment – Lapsed"]}]
    assert h.account.attributes["INTERESTS"].options == ["Coffee", "Tea", "Cocoa"]


async def test_a_push_creates_contacts_through_imports_and_confirms_by_reading_back(h: Harness) -> None:
    ann = person("ann@example.com", fields={"Total spent": Decimal("120.50"), "Last order": date(2025, 12, 1),
                                            "first_name": "Ann", "phone": "+33612345678", "Interests": ("Tea",)},
                 tags=frozenset({"Segment – Champions"}), lists=frozenset({"Customers", "Newsletter"}))
    bob = person("bob@example.com", fields={"Lifecycle stage": "new", "phone": "+1555"})
    results = await h.push([("p1", ann), ("p2", bob)])
    assert results["p1"].status is PushStatus.CONFIRMED and results["p1"].reason is None
    assert results["p2"].status is PushStatus.CONFIRMED
    assert results["p2"].reason == "phone left out: phone is not a valid number for its country code"
    a, b = h.contact("ann@example.com"), h.contact("bob@example.com")
    assert results["p1"].contact_id == str(a.id)
    assert a.attributes == {"TOTAL_SPENT": 120.5, "LAST_ORDER": "2025-12-01", "FIRSTNAME": "Ann",
                            "SMS": "+33612345678", "INTERESTS": ["Tea"], "SEGMENTS": ["Segment – Champions"]}
    assert a.list_ids == {1, 2, 3}  # Customers, Newsletter, and VIP for the Champions tag
    assert b.attributes == {"LIFECYCLE_STAGE": "new"} and b.list_ids == {1}
    imports = h.transport.bodies("POST", "/v3/contacts/import")
    assert sorted(i["listIds"] for i in imports) == [[1], [1, 2, 3]]
    assert all(i["updateExistingContacts"] is True and "emailBlacklist" not in i for i in imports)
    assert h.transport.bodies("POST", "/v3/contacts/batch") == []


async def test_bodies_stay_under_the_import_limit(clock: ManualClock) -> None:
    h = Harness(clock, import_max_bytes=10_000)
    await h.sink.ensure_schema(SPEC)
    people = [(f"p{i}", person(f"p{i}@example.com", fields={"Lifecycle stage": "x" * 40})) for i in range(600)]
    results = await h.push(people)
    sizes = [len(b) for m, p, b in h.transport.sent if p == "/v3/contacts/import"]
    assert len(sizes) >= 5 and max(sizes) <= 10_000  # ~95 bytes a row: 600 rows need at least 6 bodies
    assert {r.status for r in results.values()} == {PushStatus.CONFIRMED}
    assert len(h.account.contacts) == 600


async def test_a_blocklisted_contact_is_never_unblocked_or_put_back_on_a_list(h: Harness) -> None:
    ann = person("ann@example.com", fields={"Lifecycle stage": "new"})
    await h.push([("p1", ann)])
    contact = h.contact("ann@example.com")
    contact.email_blacklisted = True  # she unsubscribed in Brevo (a campaign's link)
    contact.list_ids.clear()
    h.clock.advance(10)
    contact.modified_at = h.clock.now()
    later = person("ann@example.com", fields={"Lifecycle stage": "active"}, tags=frozenset({"Segment – Champions"}),
                   lists=frozenset({"Customers", "Newsletter"}))
    results = await h.push([("p1", later)], {"p1": ann})
    assert results["p1"].status is PushStatus.FAILED
    assert "blocklisted in Brevo" in (results["p1"].reason or "")
    contact = h.contact("ann@example.com")
    assert contact.email_blacklisted is True and contact.list_ids == set()
    assert contact.attributes["LIFECYCLE_STAGE"] == "active"  # what may be applied was
    assert h.account.blocklist_clears == []
    for _method, _path, body in h.transport.sent:
        assert b'"emailBlacklisted":false' not in body.replace(b" ", b"") and b"emailBlacklist\"" not in body


async def test_an_unsubscribe_at_the_shop_blocklists_and_takes_the_contact_off_our_lists(h: Harness) -> None:
    ann = person("ann@example.com", lists=frozenset({"Customers", "Newsletter"}))
    await h.push([("p1", ann)])
    gone = person("ann@example.com", lists=frozenset(), consent=ConsentState.UNSUBSCRIBED)
    results = await h.push([("p1", gone)], {"p1": ann})
    assert results["p1"].status is PushStatus.CONFIRMED
    contact = h.contact("ann@example.com")
    assert contact.email_blacklisted is True and contact.list_ids == set()
    assert h.transport.bodies("POST", "/v3/contacts/lists/1/contacts/remove") == [{"emails": ["ann@example.com"]}]


async def test_a_hand_set_unmanaged_attribute_survives_every_write(h: Harness) -> None:
    h.account.attributes["PET_NAME"] = type(h.account.attributes["FIRSTNAME"])("PET_NAME", "normal", "text")
    ann = person("ann@example.com", fields={"Lifecycle stage": "new", "Total spent": Decimal(5)},
                 tags=frozenset({"Segment – New"}))
    await h.push([("p1", ann)])
    h.contact("ann@example.com").attributes["PET_NAME"] = "Rex"  # a marketer, by hand
    cleared = person("ann@example.com", fields={"Lifecycle stage": None, "Total spent": Decimal(7)})
    results = await h.push([("p1", cleared)], {"p1": ann})
    assert results["p1"].status is PushStatus.CONFIRMED
    imports = h.transport.bodies("POST", "/v3/contacts/import")
    assert imports[-1]["emptyContactsAttributes"] is True  # a clear: the whole managed state is sent
    assert imports[-1]["jsonBody"] == [{"email": "ann@example.com", "attributes": {
        "LIFECYCLE_STAGE": "", "TOTAL_SPENT": 7, "SEGMENTS": []}}]
    assert h.contact("ann@example.com").attributes == {"PET_NAME": "Rex", "TOTAL_SPENT": 7}


async def test_partial_import_failures_map_back_to_their_persons(h: Harness) -> None:
    # Two persons with one mobile number: Brevo keeps SMS unique, so it rejects the second row.
    people = [(f"p{i}", person(f"p{i}@example.com", fields={"phone": "+33612345678" if i in (1, 2) else None}))
              for i in range(4)]
    results = await h.push(people)
    assert {k: r.status for k, r in results.items()} == {
        "p0": PushStatus.CONFIRMED, "p1": PushStatus.CONFIRMED, "p2": PushStatus.FAILED, "p3": PushStatus.CONFIRMED}
    assert results["p2"].reason == "Brevo did not take the import row (not in Brevo after the import)"
    assert "p2@example.com" not in (results["p2"].reason or "")
    assert h.contact("p2@example.com") is None


async def test_an_email_change_updates_the_existing_contact(h: Harness) -> None:
    old = person("ann@old.example", fields={"Lifecycle stage": "new"})
    await h.push([("p1", old)])
    contact_id = h.contact("ann@old.example").id
    new = person("ann@new.example", fields={"Lifecycle stage": "active"})
    results = await h.push([("p1", new)], {"p1": old})
    assert results["p1"].status is PushStatus.CONFIRMED and results["p1"].contact_id == str(contact_id)
    assert [c.email for c in h.account.contacts.values()] == ["ann@new.example"]
    assert h.contact("ann@new.example").attributes["LIFECYCLE_STAGE"] == "active"
    assert [(m, p) for m, p, _ in h.transport.sent if m == "PUT" and "@" in p] == [
        ("PUT", "/v3/contacts/ann@old.example")]


async def test_read_state_reports_blocklist_lists_and_tags_incrementally(h: Harness) -> None:
    ann = person("ann@example.com", tags=frozenset({"Segment – Champions"}))
    bob = person("bob@example.com", lists=frozenset({"Newsletter"}))
    await h.push([("p1", ann), ("p2", bob)])
    everyone = {c.email: c async for c in h.sink.read_state(None)}
    assert everyone["ann@example.com"].subscribed_lists == {"Customers", "VIP"}
    assert everyone["ann@example.com"].managed_tags == {"Segment – Champions"}
    assert everyone["bob@example.com"].blocklisted is False
    since = h.clock.now()
    h.clock.advance(5)
    bob_contact = h.contact("bob@example.com")
    bob_contact.email_blacklisted, bob_contact.modified_at = True, h.clock.now()
    changed = [c async for c in h.sink.read_state(since)]
    assert [(c.email, c.blocklisted) for c in changed] == [("bob@example.com", True)]


async def test_unchanged_people_cost_no_requests(h: Harness) -> None:
    ann = person("ann@example.com")
    await h.push([("p1", ann)])
    before = len(h.transport.sent)
    plan = Plan(sink="brevo-test", created_at=h.clock.now(), changes=tuple(diff_all([("p1", ann)], {"p1": ann})))
    assert [r async for r in h.sink.apply(plan)] == []
    assert len(h.transport.sent) == before
