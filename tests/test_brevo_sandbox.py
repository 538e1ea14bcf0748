"""The Brevo sandbox against Brevo's OpenAPI document, the docs' recorded examples and its documented rules.

Oracles: ``shared/specs/brevo/brevo_api_v3_openapi.yml`` (every answer validated), the docs'
examples in ``shared/fixtures/brevo/*.docs-example.json`` (same shapes), and the docs' rate limits
(contacts 10 a second, every other endpoint 100 an hour, ``x-sib-ratelimit-*`` on every answer).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.clock import ManualClock
from connector.sandbox.faults import FaultPlan
from connector.sandbox.serve import ServedSandbox
from connector.sandbox.state import load_state
from connectors.brevo.sandbox import SANDBOX_KEY, account_of, create_sandbox
from tests.openapi_contract import SPECS, OpenApiContract

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "brevo"
KEY = {"api-key": SANDBOX_KEY}
# The document's own defects, each exact (where, what):
# * its attribute-list schema has no "multiple-choice" type, though the create schema offers it;
# * answers documented as ``content: {}`` (201 "Attribute created", the 204s of contact and
#   attribute updates and of an upsert) are read by the validator as "a body is due"; Brevo sends none;
# * contacts/add|remove bodies and answers are ``oneOf`` alternatives with no required property, so a
#   valid body matches every alternative and ``oneOf`` fails on all of them.
_EMPTY = "MissingData: Missing response data -- "
ALLOWED = (
    ("response 200 to GET /v3/contacts/attributes:", "'multiple-choice' is not one of"),
    ("response 201 to POST /v3/contacts/attributes/normal/", _EMPTY),
    ("response 204 to PUT /v3/contacts/", _EMPTY),
    ("response 204 to POST /v3/contacts:", _EMPTY),
    ("request POST /v3/contacts/lists/", "is valid under each of"),
    ("response 201 to POST /v3/contacts/lists/", "is valid under each of"),
)


def contract_client(sandbox: Any) -> tuple[httpx.AsyncClient, Any]:
    contract = OpenApiContract.load(SPECS / "brevo/brevo_api_v3_openapi.yml", "http://sandbox.test/v3")
    transport = contract.checking(sandbox.transport())
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=KEY), transport


def unexpected(violations: list[str]) -> list[str]:
    """The violations not on the documented allow-list."""
    return [v for v in violations if not any(v.startswith(where) and what in v for where, what in ALLOWED)]


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__


def fixture(name: str) -> Any:
    data = json.loads((FIXTURES / f"{name}.docs-example.json").read_text())
    return data.get("response", data)


@pytest.fixture
def sandbox(clock: ManualClock) -> Any:
    return create_sandbox(clock=clock)


async def seed(client: httpx.AsyncClient) -> None:
    """A folder, a list, a multiple-choice attribute and two contacts (one via import)."""
    assert (await client.post("/v3/contacts/folders", json={"name": "connector"})).status_code == 201
    assert (await client.post("/v3/contacts/lists", json={"name": "Customers", "folderId": 1})).status_code == 201
    response = await client.post("/v3/contacts/attributes/normal/SEGMENTS",
                                 json={"type": "multiple-choice", "multiCategoryOptions": ["VIP", "New"]})
    assert response.status_code == 201
    body = {"email": "peggy@example.com", "attributes": {"FIRSTNAME": "Peggy", "SMS": "+33612345678",
                                                          "SEGMENTS": ["VIP"]}, "listIds": [1]}
    assert (await client.post("/v3/contacts", json=body)).status_code == 201


async def test_answers_have_the_docs_example_shapes(sandbox: Any, clock: ManualClock) -> None:
    client, transport = contract_client(sandbox)
    async with client:
        await seed(client)
        imported = await client.post("/v3/contacts/import", json={
            "jsonBody": [{"email": "meg@example.com", "attributes": {"LASTNAME": "Brennon"}}], "listIds": [1]})
        assert imported.status_code == 202
        assert shape(imported.json()) == shape(fixture("contacts_import_202"))
        clock.advance(60)
        process = (await client.get("/v3/processes/1")).json()
        # export_url is for exports only: an import's process is the documented {id, status, name}.
        assert shape(process) == {k: v for k, v in shape(fixture("process_get")).items() if k != "export_url"}
        assert process["status"] == "completed"
        contact = (await client.get("/v3/contacts/peggy@example.com")).json()
        expected = shape(fixture("contact_get"))
        assert set(contact) == set(expected)
        assert contact["attributes"]["SMS"] == "33612345678"  # digits only, as in the docs' examples
        listed = (await client.get("/v3/contacts", params={"limit": 10})).json()
        example = shape(fixture("contacts_list"))
        assert set(listed) == set(example)
        assert set(listed["contacts"][0]) == set(example["contacts"][0])
        assert shape(listed["contacts"][0]["id"]) == example["contacts"][0]["id"]
        lists = (await client.get("/v3/contacts/lists")).json()
        assert shape(lists) == shape(fixture("lists_list"))
        attributes = (await client.get("/v3/contacts/attributes")).json()
        text = next(a for a in attributes["attributes"] if a["name"] == "FIRSTNAME")
        assert shape(text) == shape(fixture("attributes_list")["attributes"][0])
    assert unexpected(transport.violations) == [], transport.violations


async def test_api_key_is_required(sandbox: Any) -> None:
    async with sandbox.client() as client:
        missing = await client.get("/v3/contacts")
        wrong = await client.get("/v3/contacts", headers={"api-key": "xkeysib-wrong"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json() == {"code": "unauthorized", "message": "Key not found"}


async def test_import_completes_later_on_the_sandbox_clock(sandbox: Any, clock: ManualClock) -> None:
    sandbox = create_sandbox(clock=clock, import_seconds=(10.0, 1.0))  # 3 rows: 13 s once started
    async with sandbox.client(headers=KEY) as client:
        await seed(client)
        rows = [{"email": "a@example.com"}, {"email": "not-an-email"}, {"email": "b@example.com"}]
        first = (await client.post("/v3/contacts/import", json={"jsonBody": rows, "listIds": [1]})).json()
        second = (await client.post("/v3/contacts/import", json={"jsonBody": rows[:1], "listIds": [1]})).json()
        statuses = []
        for seconds in (0, 12, 2, 10):  # t = 0, 12, 14, 24: the second starts when the first is done (13)
            clock.advance(seconds)
            statuses.append([(await client.get(f"/v3/processes/{p['processId']}")).json()["status"]
                             for p in (first, second)])
        assert (await client.get("/v3/contacts/a@example.com")).status_code == 200
    assert statuses == [["in_process", "queued"], ["in_process", "queued"], ["completed", "in_process"],
                        ["completed", "completed"]]
    process = sandbox.extras["imports"].processes[first["processId"]]
    assert process.rejected == [("not-an-email", "Invalid email address")]
    assert sorted(c.email for c in account_of(sandbox).contacts.values()) == [
        "a@example.com", "b@example.com", "peggy@example.com"]


async def test_import_body_limit_and_required_lists(clock: ManualClock) -> None:
    sandbox = create_sandbox(clock=clock, max_import_bytes=2_000)
    async with sandbox.client(headers=KEY) as client:
        await seed(client)
        big = [{"email": f"p{i}@example.com"} for i in range(100)]  # about 2,300 bytes
        too_big = await client.post("/v3/contacts/import", json={"jsonBody": big, "listIds": [1]})
        no_list = await client.post("/v3/contacts/import", json={"jsonBody": big[:1]})
    assert too_big.status_code == 400 and too_big.json()["code"] == "invalid_parameter"
    assert no_list.status_code == 400 and no_list.json()["code"] == "missing_parameter"


async def test_blocklist_stays_unless_cleared_and_every_clear_is_recorded(sandbox: Any) -> None:
    async with sandbox.client(headers=KEY) as client:
        await seed(client)
        await client.put("/v3/contacts/peggy@example.com", json={"emailBlacklisted": True})
        before = (await client.get("/v3/contacts/peggy@example.com")).json()["modifiedAt"]
        sandbox.clock.advance(1.5)
        await client.put("/v3/contacts/peggy@example.com", json={"attributes": {"FIRSTNAME": "Peg"}})
        after = (await client.get("/v3/contacts/peggy@example.com")).json()["modifiedAt"]
        assert (before, after) == ("2026-01-15T09:00:00.000Z", "2026-01-15T09:00:01.500Z")  # a value changed
        await client.post("/v3/contacts", json={"email": "peggy@example.com", "updateEnabled": True})
        assert (await client.get("/v3/contacts/peggy@example.com")).json()["emailBlacklisted"] is True
        assert account_of(sandbox).blocklist_clears == []
        await client.put("/v3/contacts/peggy@example.com", json={"emailBlacklisted": False})
    clears = account_of(sandbox).blocklist_clears
    assert [(c["email"], c["via"]) for c in clears] == [("peggy@example.com", "PUT /contacts/{identifier}")]


async def test_rate_limits_per_endpoint_class_with_headers(clock: ManualClock) -> None:
    sandbox = create_sandbox(clock=clock)
    async with sandbox.client(headers=KEY) as client:
        answers = [await client.get("/v3/processes/1") for _ in range(101)]  # "other": 100 an hour
        contacts = [await client.get("/v3/contacts") for _ in range(11)]  # 10 a second
        clock.advance(1.0)
        after_a_second = await client.get("/v3/contacts")
        clock.advance(3600)
        after_an_hour = await client.get("/v3/processes/1")
    assert [a.status_code for a in answers[:100]] == [404] * 100
    assert answers[0].headers["x-sib-ratelimit-limit"] == "100"
    assert answers[0].headers["x-sib-ratelimit-remaining"] == "99"
    last = answers[100]
    assert last.status_code == 429 and "retry-after" not in last.headers
    assert last.headers["x-sib-ratelimit-remaining"] == "0"
    assert last.headers["x-sib-ratelimit-reset"] == "3600"  # all 100 arrived at the same instant
    assert [c.status_code for c in contacts] == [200] * 10 + [429]
    assert contacts[10].headers["x-sib-ratelimit-limit"] == "10"
    assert after_a_second.status_code == 200 and after_an_hour.status_code == 404


async def test_faults_are_worded_as_brevo(clock: ManualClock) -> None:
    sandbox = create_sandbox(clock=clock, faults=FaultPlan(seed=1, rate_5xx=1.0))
    async with sandbox.client(headers=KEY) as client:
        answer = await client.get("/v3/contacts")
    assert answer.status_code in (500, 502, 503)
    assert set(answer.json()) == {"code", "message"}


async def test_state_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    state = tmp_path / "brevo.json"
    sandbox = create_sandbox(clock=clock, state_file=state)
    async with sandbox.client(headers=KEY) as client:
        await seed(client)
        await client.post("/v3/contacts/import", json={"jsonBody": [{"email": "late@example.com"}], "listIds": [1]})
    sandbox.save()
    assert load_state(state)["platform"] == "brevo"
    clock.advance(60)  # the import completes after the restart
    again = create_sandbox(clock=clock, state_file=state)
    async with again.client(headers=KEY) as client:
        peggy = (await client.get("/v3/contacts/peggy@example.com")).json()
        late = await client.get("/v3/contacts/late@example.com")
    assert peggy["attributes"]["SEGMENTS"] == ["VIP"] and peggy["listIds"] == [1]
    assert late.status_code == 200


def test_served_on_loopback_with_what_the_cli_passes(tmp_path: Path) -> None:
    offered = {"customers": 10, "state_file": tmp_path / "s.json", "served": True}  # `connector sandbox serve`
    accepted = inspect.signature(create_sandbox).parameters
    sandbox = create_sandbox(**{k: v for k, v in offered.items() if k in accepted})
    with ServedSandbox(sandbox) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        answer = httpx.get(f"{base_url}/v3/contacts/lists", headers=KEY)
    assert answer.status_code == 200 and answer.json() == {"lists": [], "count": 0}
    assert any("api-key" in line for line in sandbox.describe(base_url))
