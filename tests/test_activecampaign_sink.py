"""The ActiveCampaign sink against the in-process sandbox (real limits, on a ManualClock) and respx.

Every exchange goes through the OpenAPI document's checking transport. The document has a few
defects, listed exactly in ``KNOWN_DEFECTS``; every other violation fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from jsonschema import Draft4Validator
from openapi_contract import SPECS, ContractTransport, OpenApiContract, _document

from connector.clock import ManualClock
from connector.errors import ConfigError, RemoteAPIError, RetriesExhaustedError
from connector.http import RetryPolicy
from connector.models import ConsentState
from connector.plan import diff_all
from connector.protocols import ContactChange, ContactState, Plan, PushResult, PushStatus, SchemaSpec, Sink
from connector.sandbox.faults import FaultPlan
from connectors.activecampaign import ActiveCampaignSettings, ActiveCampaignSink
from connectors.activecampaign.sandbox import SANDBOX_TOKEN, account_of, create_sandbox, importer_of
from connectors.activecampaign.sandbox_store import SUBSCRIBED, UNSUBSCRIBED

DOCUMENT = SPECS / "activecampaign/activecampaign_api_v3_openapi.yaml"
URL = "https://sandbox.api-us1.com"
SPEC = SchemaSpec(
    lists=frozenset({"Customers", "Newsletter"}),
    tags=frozenset({"Segment – VIP", "Status – Active", "Status – Lapsed"}),
    fields={"Total spent": "number", "Birthday": "date", "Tier": "dropdown", "Interests": "multiselect",
            "City": "text"},
    options={"Tier": ("gold", "silver"), "Interests": ("shoes", "bags")},
)
# Defects of the OpenAPI document (not of our requests or the sandbox's answers), matched exactly:
KNOWN_DEFECTS = (
    # GET /contacts declares `segmentid` with `default: null` but not nullable: every request is refused for it.
    ("request GET /api/3/contacts: ", "Invalid query parameter: segmentid (: None for not nullable"),
    # GET /contacts answers are `oneOf` two near-identical schemas without required properties, so any page
    # matches both and fails `oneOf` (test_the_contacts_page_matches_both_branches_of_the_documents_oneof).
    ("response 200 to GET /api/3/contacts: ", "InvalidData: InvalidData: Value {'scoreValues'"),
    # POST /fieldOption/bulk: the document types the body as one bare option; ActiveCampaign's reference (and
    # the API) take {"fieldOptions": [{field, value, label, orderid}]}.
    ("request POST /api/3/fieldOption/bulk: ", "'field' is a required property"),
    # GET /contacts/{id}/contactTags is in ActiveCampaign's reference but missing from the document.
    ("request GET /api/3/contacts/", "/contactTags: OperationNotFound: Operation get not found"),
    ("response 200 to GET /api/3/contacts/", "/contactTags: OperationNotFound: Operation get not found"),
)


def unexpected(violations: Iterable[str]) -> list[str]:
    return [v for v in violations if not any(v.startswith(p) and m in v for p, m in KNOWN_DEFECTS)]


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Keeps every request (bodies included) on the way to ``inner``."""

    inner: httpx.AsyncBaseTransport
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def imports(self) -> list[list[dict[str, Any]]]:
        return [json.loads(r.content)["contacts"] for r in self.requests if r.url.path.endswith("/bulk_import")]

    def writes(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests if r.method != "GET"]


class World:
    """A sandbox (real limits), its checking transport and a sink on it, on one ManualClock."""

    def __init__(self, clock: ManualClock, *, faults: FaultPlan | None = None, exclusions: Iterable[str] = (),
                 retry: RetryPolicy | None = None, **settings: Any) -> None:
        self.clock = clock
        self.sandbox = create_sandbox(clock=clock, faults=faults, exclusions=exclusions)
        self.account = account_of(self.sandbox)
        self.checking: ContractTransport = OpenApiContract.load(DOCUMENT, f"{URL}/api/3").checking(
            self.sandbox.transport())
        self.recorder = Recorder(self.checking)
        self.settings = ActiveCampaignSettings(url=URL, api_key=SANDBOX_TOKEN, **settings)
        self.sink = ActiveCampaignSink(self.settings, transport=self.recorder, clock=clock, retry=retry)

    async def push(self, changes: Iterable[ContactChange]) -> dict[str, PushResult]:
        plan = Plan(sink="activecampaign", created_at=self.clock.now(), changes=tuple(changes))
        results: dict[str, PushResult] = {}
        async for batch in self.sink.apply(plan):
            for result in batch:
                assert result.person_id not in results
                results[result.person_id] = result
        assert set(results) == {c.person_id for c in plan.changes}
        return results

    def contact(self, email: str) -> Any:
        found = self.account.contact_by_email(email)
        assert found is not None, email
        return found

    def tags(self, email: str) -> set[str]:
        return {self.account.tags[t.tag].tag for t in self.account.tags_of(self.contact(email).id)}

    def list_id(self, name: str) -> int:
        return next(x.id for x in self.account.lists.values() if x.name == name)

    def field_value(self, email: str, title: str) -> str | None:
        field_id = next(f.id for f in self.account.fields.values() if f.title == title)
        return self.account.value_of(self.contact(email).id, field_id)


def state(n: int, **changes: Any) -> ContactState:
    values: dict[str, Any] = {"email": f"person{n}@example.com", "fields": {"first_name": f"P{n}"},
                              "tags": frozenset({"Segment – VIP"}), "lists": frozenset({"Customers"})}
    values.update(changes)
    return ContactState(**values)


@pytest.fixture
def world(clock: ManualClock) -> World:
    return World(clock)


def test_the_sink_is_a_sink(world: World) -> None:
    assert isinstance(world.sink, Sink)
    assert SANDBOX_TOKEN not in repr(world.sink) and SANDBOX_TOKEN not in repr(world.sink.client)


async def test_the_contacts_page_matches_both_branches_of_the_documents_oneof(world: World) -> None:
    """Why GET /contacts answers are in KNOWN_DEFECTS: a page is valid under both branches of the ``oneOf``."""
    await world.sink.ensure_schema(SPEC)
    await world.push(diff_all([("p1", state(1))]))
    page = (await call(world, "GET", "/contacts")).json()
    schema = _document(DOCUMENT)["components"]["schemas"]["ListContactsResponse"]
    assert len(page["contacts"]) == 1
    assert [Draft4Validator(branch).is_valid(page) for branch in schema["oneOf"]] == [True, True]


# -- the whole flow against the document ----------------------------------------------------------
async def test_a_push_and_a_change_send_only_what_the_document_allows(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    people = [(f"p{n}", state(n, fields={"first_name": f"P{n}", "last_name": "Doe", "phone": "+4930123456",
                                        "Total spent": Decimal("12.50"), "Birthday": date(1990, 5, 17),
                                        "Tier": "gold", "Interests": ("shoes", "bags"), "City": "Berlin"}))
              for n in range(300)]
    first = await world.push(diff_all(people))
    assert {r.status for r in first.values()} == {PushStatus.CONFIRMED}
    assert world.field_value("person7@example.com", "Interests") == "||shoes||bags||"
    assert world.field_value("person7@example.com", "Total spent") == "12.50"
    assert world.field_value("person7@example.com", "Birthday") == "1990-05-17"
    assert world.contact("person7@example.com").last_name == "Doe"

    pushed = dict(people)
    changed = [("p1", state(1, tags=frozenset({"Status – Active"}), fields={"first_name": "P1", "City": "Paris"})),
               ("p2", state(2, email="new2@example.com")),
               ("p3", state(3, lists=frozenset(), consent=ConsentState.UNSUBSCRIBED))]
    second = await world.push(diff_all(changed, pushed))
    assert {r.status for r in second.values()} == {PushStatus.CONFIRMED}
    states = [s async for s in world.sink.read_state(None)]
    assert len(states) == 300
    assert unexpected(world.checking.violations) == []
    assert world.checking.exchanges == len(world.recorder.requests)
    assert world.sandbox.log.count(status=429) == 0


# -- batches --------------------------------------------------------------------------------------
async def test_batches_never_pass_250_contacts_or_400_kb(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    small = [(f"s{n}", state(n)) for n in range(600)]
    await world.push(diff_all(small))
    assert [len(batch) for batch in world.recorder.imports()] == [250, 250, 100]

    world.recorder.requests.clear()
    city = "x" * 3000  # about 3.1 KB a contact: the byte limit binds long before the count
    big = [(f"b{n}", state(n, email=f"big{n}@example.com", fields={"City": city})) for n in range(300)]
    results = await world.push(diff_all(big))
    bodies = [r.content for r in world.recorder.requests if r.url.path.endswith("/bulk_import")]
    assert all(len(body) <= 399_999 for body in bodies)
    assert len(bodies) == 3  # 300 x ~3.1 KB = ~930 KB: three bodies of under 400 KB
    sent = [c["email"] for body in bodies for c in json.loads(body)["contacts"]]
    assert sorted(sent) == sorted(f"big{n}@example.com" for n in range(300))
    for body, following in zip(bodies, bodies[1:], strict=False):  # each full body could not take one more
        nxt = json.dumps(json.loads(following)["contacts"][0], ensure_ascii=False, separators=(",", ":")).encode()
        assert len(body) + 1 + len(nxt) > 399_999
    assert {r.status for r in results.values()} == {PushStatus.CONFIRMED}


async def test_imports_are_paced_under_the_limits(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    start = world.clock.monotonic()
    await world.push(diff_all([(f"p{n}", state(n)) for n in range(1000)]))
    arrivals = [e.at for e in world.sandbox.log.entries if e.path.endswith("/bulk_import")]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # 4 imports at 98% of 100 a minute: one every 60 / 98 = 0.612 s at least
    assert len(arrivals) == 4 and min(gaps) >= 60 / 98 - 1e-9
    assert world.sandbox.log.count(status=429) == 0 and world.clock.monotonic() > start


# -- schema ---------------------------------------------------------------------------------------
async def test_schema_provisioning_is_idempotent_and_leaves_other_objects_alone(world: World) -> None:
    hand_list = world.account.lists  # a marketer's own list, tag and field, made before us
    await call(world, "POST", "/lists", {"list": {"name": "Hand made", "stringid": "hand", "sender_url": "",
                                                  "sender_reminder": "r"}})
    await call(world, "POST", "/fields", {"field": {"title": "City", "type": "textarea"}})  # adopted as is
    before = {k: (v.name, v.stringid) for k, v in hand_list.items()}
    await world.sink.ensure_schema(SPEC)
    writes = world.recorder.writes()
    # 2 lists + 3 tags + 4 new fields (City exists) + 1 options request + 5 relations (City has none)
    assert len(writes) == 2 + 3 + 4 + 1 + 5
    assert [f.type for f in world.account.fields.values() if f.title == "City"] == ["textarea"]
    assert {k: (v.name, v.stringid) for k, v in hand_list.items() if k in before} == before
    interests = next(f.id for f in world.account.fields.values() if f.title == "Interests")
    assert sorted(o.value for o in world.account.options_of(interests)) == ["bags", "shoes"]

    world.recorder.requests.clear()
    await world.sink.ensure_schema(SPEC)
    assert world.recorder.writes() == []

    world.recorder.requests.clear()
    await world.sink.ensure_schema(SchemaSpec(fields={"Tier": "dropdown"}, options={"Tier": ("gold", "bronze")}))
    assert world.recorder.writes() == ["POST /api/3/fieldOption/bulk"]  # only the new option


async def test_a_field_of_an_incompatible_type_is_a_config_error(world: World) -> None:
    await call(world, "POST", "/fields", {"field": {"title": "Birthday", "type": "text"}})
    with pytest.raises(ConfigError, match="'Birthday' of type 'text'"):
        await world.sink.ensure_schema(SPEC)


async def call(world: World, method: str, path: str, body: Any = None) -> httpx.Response:
    async with world.sandbox.client(headers={"Api-Token": SANDBOX_TOKEN}) as client:
        world.clock.advance(1)  # keep the test's own requests out of the sink's rate budget
        response = await client.request(method, f"/api/3{path}", json=body)
        world.clock.advance(1)
        return response


# -- consent --------------------------------------------------------------------------------------
@pytest.mark.parametrize("read_first", [True, False])
async def test_a_contact_unsubscribed_in_activecampaign_is_never_sent_a_subscribe(world: World,
                                                                                  read_first: bool) -> None:
    await world.sink.ensure_schema(SPEC)
    await world.push(diff_all([("p1", state(1, lists=frozenset()))]))
    contact = world.contact("person1@example.com")
    await call(world, "POST", "/contactLists", {"contactList": {"list": str(world.list_id("Customers")),
                                                               "contact": str(contact.id), "status": "2"}})
    if read_first:
        seen = [s async for s in world.sink.read_state(None)]
        assert [s.unsubscribed_lists for s in seen] == [frozenset({"Customers"})]
    world.recorder.requests.clear()
    pushed = {"p1": state(1, lists=frozenset())}
    results = await world.push(diff_all([("p1", state(1)), ("p2", state(2))], pushed))

    assert results["p1"].status is PushStatus.FAILED and "never re-subscribes" in (results["p1"].reason or "")
    assert results["p2"].status is PushStatus.CONFIRMED
    sent = [c for batch in world.recorder.imports() for c in batch]
    assert [c["email"] for c in sent] == ["person2@example.com"]
    assert world.account.list_status(contact.id, world.list_id("Customers")) == UNSUBSCRIBED
    assert world.account.resubscriptions == []


async def test_consent_unsubscribed_unsubscribes_every_managed_list(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    subscribed = state(1, lists=frozenset({"Customers", "Newsletter"}))
    await world.push(diff_all([("p1", subscribed)]))
    gone = state(1, lists=frozenset(), consent=ConsentState.UNSUBSCRIBED)
    results = await world.push(diff_all([("p1", gone)], {"p1": subscribed}))
    contact = world.contact("person1@example.com")
    assert results["p1"].status is PushStatus.CONFIRMED
    assert {world.account.list_status(contact.id, world.list_id(n)) for n in ("Customers", "Newsletter")} == {
        UNSUBSCRIBED}


# -- tags -----------------------------------------------------------------------------------------
async def test_a_tag_added_by_hand_survives_a_managed_tag_removal(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    before = state(1, tags=frozenset({"Segment – VIP", "Status – Active"}))
    await world.push(diff_all([("p1", before)]))
    hand = await call(world, "POST", "/tags", {"tag": {"tag": "Hand – Met at fair", "tagType": "contact"}})
    contact = world.contact("person1@example.com")
    await call(world, "POST", "/contactTags", {"contactTag": {"contact": contact.id,
                                                             "tag": int(hand.json()["tag"]["id"])}})
    after = state(1, tags=frozenset({"Segment – VIP", "Status – Lapsed"}))
    results = await world.push(diff_all([("p1", after)], {"p1": before}))
    assert results["p1"].status is PushStatus.CONFIRMED and results["p1"].contact_id == str(contact.id)
    assert world.tags("person1@example.com") == {"Segment – VIP", "Status – Lapsed", "Hand – Met at fair"}


async def test_a_change_that_only_removes_a_tag_makes_no_import(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    before = state(1, tags=frozenset({"Segment – VIP", "Status – Active"}))
    await world.push(diff_all([("p1", before)]))
    tags = world.account.tags
    active = next(t.id for t in world.account.contact_tags.values() if tags[t.tag].tag == "Status – Active")
    world.recorder.requests.clear()
    results = await world.push(diff_all([("p1", state(1))], {"p1": before}))
    assert results["p1"].status is PushStatus.CONFIRMED
    assert world.tags("person1@example.com") == {"Segment – VIP"}
    assert world.recorder.imports() == [] and world.recorder.writes() == [f"DELETE /api/3/contactTags/{active}"]


# -- failures -------------------------------------------------------------------------------------
async def test_partial_import_failures_fail_exactly_those_persons(clock: ManualClock) -> None:
    world = World(clock, exclusions=["person2@example.com"])
    await world.sink.ensure_schema(SPEC)
    people = [(f"p{n}", state(n)) for n in range(5)] + [("bad", state(9, email="o'hara@example.com"))]
    results = await world.push(diff_all(people))
    failed = {p: r.reason for p, r in results.items() if r.status is PushStatus.FAILED}
    assert set(failed) == {"p2", "bad"}
    assert all("did not import this contact" in (reason or "") for reason in failed.values())
    confirmed = {p: r.contact_id for p, r in results.items() if r.status is PushStatus.CONFIRMED}
    assert confirmed == {f"p{n}": str(world.contact(f"person{n}@example.com").id) for n in (0, 1, 3, 4)}


@respx.mock(assert_all_called=False)
async def test_a_400_naming_contacts_fails_them_and_imports_the_rest(respx_mock: respx.MockRouter,
                                                                     clock: ManualClock) -> None:
    api = f"{URL}/api/3"
    respx_mock.get(f"{api}/lists").respond(json={"lists": [{"id": "1", "name": "Customers", "stringid": "c"}],
                                                 "meta": {"total": "1"}})
    respx_mock.get(f"{api}/tags").respond(json={"tags": [], "meta": {"total": "0"}})
    respx_mock.get(f"{api}/fields").respond(json={"fields": [], "fieldOptions": [], "fieldRels": [],
                                                  "meta": {"total": "0"}})
    respx_mock.get(f"{api}/contacts").respond(json={"contacts": [], "meta": {"total": "0"}})
    refusal = {"success": 0, "message": "JSON payload did not pass validation.",
               "failureReasons": [{"contact": 1, "failureReason": "Field 'email' incorrect format"}]}
    imports = respx_mock.post(f"{api}/import/bulk_import").mock(side_effect=[
        httpx.Response(400, json=refusal),
        httpx.Response(200, json={"Success": 1, "queued_contacts": 2, "batchId": "b1", "message": "queued"})])
    respx_mock.get(f"{api}/import/info").respond(json={"status": "completed", "success": ["11", "13"],
                                                       "failure": []})
    sink = ActiveCampaignSink(ActiveCampaignSettings(url=URL, api_key=SANDBOX_TOKEN), clock=clock)
    await sink.ensure_schema(SchemaSpec(lists=frozenset({"Customers"})))
    plan = Plan(sink="ac", created_at=clock.now(), changes=tuple(diff_all([(f"p{n}", state(n, tags=frozenset()))
                                                                           for n in range(3)])))
    results = {r.person_id: r async for batch in sink.apply(plan) for r in batch}
    assert results["p1"].status is PushStatus.FAILED
    assert results["p1"].reason == "ActiveCampaign refused the contact: Field 'email' incorrect format"
    assert (results["p0"].contact_id, results["p2"].contact_id) == ("11", "13")
    resent = json.loads(imports.calls[1].request.content)["contacts"]
    assert [c["email"] for c in resent] == ["person0@example.com", "person2@example.com"]
    await sink.aclose()


async def test_429_and_5xx_are_retried(clock: ManualClock) -> None:
    faults = FaultPlan(seed=7, rate_429=0.15, rate_5xx=0.15, exempt_paths=())
    world = World(clock, faults=faults)
    await world.sink.ensure_schema(SPEC)
    results = await world.push(diff_all([(f"p{n}", state(n)) for n in range(600)]))
    assert {r.status for r in results.values()} == {PushStatus.CONFIRMED}
    assert len(world.account.contacts) == 600
    faulted = [e for e in world.sandbox.log.entries if e.fault]
    assert {e.fault for e in faulted} == {"429", "5xx"}
    assert world.sink.client.http.stats.retries == len(faulted)


async def test_the_retry_cap_ends_in_a_clear_error(clock: ManualClock) -> None:
    world = World(clock, faults=FaultPlan(rate_5xx=1.0, exempt_paths=()), retry=RetryPolicy(max_attempts=3))
    with pytest.raises(RetriesExhaustedError) as caught:
        await world.sink.ensure_schema(SPEC)
    message = str(caught.value)
    assert "gave up on GET" in message and "/api/3/lists" in message and "after 3 attempt(s)" in message
    assert SANDBOX_TOKEN not in message
    assert world.sandbox.log.count() == 3


async def test_an_unreadable_answer_is_a_clear_error(clock: ManualClock) -> None:
    world = World(clock, faults=FaultPlan(rate_malformed=1.0, exempt_paths=()))
    with pytest.raises(RemoteAPIError, match=r"GET /api/3/lists returned a body that is not a JSON object"):
        await world.sink.ensure_schema(SPEC)
    assert world.sandbox.log.count() == 2  # asked once more, then gave up


async def test_apply_before_ensure_schema_is_a_config_error(world: World) -> None:
    with pytest.raises(ConfigError, match="ensure_schema"):
        await world.push(diff_all([("p1", state(1))]))


# -- email changes --------------------------------------------------------------------------------
async def test_an_email_change_updates_the_existing_contact(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    old = state(1)
    await world.push(diff_all([("p1", old)]))
    contact_id = world.contact("person1@example.com").id
    fresh = ActiveCampaignSink(world.settings, transport=world.recorder, clock=world.clock)  # knows no ids
    await fresh.ensure_schema(SPEC)
    world.sink = fresh
    new = state(1, email="renamed@example.com", fields={"first_name": "Renamed"})
    results = await world.push(diff_all([("p1", new)], {"p1": old}))
    assert results["p1"].status is PushStatus.CONFIRMED and results["p1"].contact_id == str(contact_id)
    assert [(c.id, c.email, c.first_name) for c in world.account.contacts.values()] == [
        (contact_id, "renamed@example.com", "Renamed")]


async def test_an_email_change_onto_another_contact_fails(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    await world.push(diff_all([("p1", state(1)), ("p2", state(2))]))
    results = await world.push(diff_all([("p1", state(1, email="person2@example.com"))], {"p1": state(1)}))
    assert results["p1"].status is PushStatus.FAILED and "belongs to another contact" in (results["p1"].reason or "")
    assert len(world.account.contacts) == 2


# -- read_state -----------------------------------------------------------------------------------
async def test_read_state_reads_statuses_and_managed_tags_then_only_changes(world: World) -> None:
    await world.sink.ensure_schema(SPEC)
    await world.push(diff_all([(f"p{n}", state(n)) for n in range(3)]))
    first = {s.email: s async for s in world.sink.read_state(None)}
    assert set(first) == {f"person{n}@example.com" for n in range(3)}
    assert first["person0@example.com"].subscribed_lists == frozenset({"Customers"})
    assert first["person0@example.com"].managed_tags == frozenset({"Segment – VIP"})

    world.clock.advance(3600)
    since = world.clock.now()
    world.clock.advance(60)
    contact = world.contact("person1@example.com")
    vip = next(t for t in world.account.contact_tags.values() if t.contact == contact.id)
    await call(world, "DELETE", f"/contactTags/{vip.id}")  # removed by hand
    await call(world, "POST", "/contactLists", {"contactList": {"list": str(world.list_id("Newsletter")),
                                                               "contact": str(contact.id), "status": "2"}})
    changed = [s async for s in world.sink.read_state(since)]
    assert [(s.email, s.managed_tags, s.subscribed_lists, s.unsubscribed_lists) for s in changed] == [
        ("person1@example.com", frozenset(), frozenset({"Customers"}), frozenset({"Newsletter"}))]
    assert world.account.list_status(contact.id, world.list_id("Customers")) == SUBSCRIBED


async def test_exclude_automations_is_sent_when_configured(clock: ManualClock) -> None:
    world = World(clock, exclude_automations=True)
    await world.sink.ensure_schema(SPEC)
    await world.push(diff_all([("p1", state(1))]))
    assert [c.get("exclude_automations") for batch in world.recorder.imports() for c in batch] == [True]
    assert [job.exclude_automations for job in importer_of(world.sandbox).jobs.values()] == [True]
