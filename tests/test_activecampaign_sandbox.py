"""The ActiveCampaign sandbox: auth, shapes of the docs examples, the importer, limits, consent, state.

The oracle for shapes is ``shared/fixtures/activecampaign/*.docs-example.json`` (copied from the
OpenAPI document's examples): every answer must have the same keys, in the same order, with the
same JSON types, as the example of its endpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.clock import ManualClock
from connector.platforms import load_platforms
from connector.sandbox.serve import ServedSandbox
from connectors.activecampaign.sandbox import SANDBOX_TOKEN, account_of, create_sandbox, importer_of
from connectors.activecampaign.sandbox_store import UNSUBSCRIBED

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "activecampaign"
API = "/api/3"
TOKEN = {"Api-Token": SANDBOX_TOKEN}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.docs-example.json").read_text())


def shape(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return "string" if isinstance(value, str) else "number"


def same_shape(documented: Any, ours: Any, where: str) -> None:
    if isinstance(documented, list):
        assert isinstance(ours, list), where
        if documented and ours:
            same_shape(documented[0], ours[0], f"{where}[0]")
        return
    if isinstance(documented, dict):
        assert isinstance(ours, dict), where
        if where.endswith(".links"):  # link names vary per object kind; they are all URLs
            assert all(isinstance(v, str) for v in ours.values()), where
            return
        assert list(ours) == list(documented), f"{where}: keys differ:\n{list(ours)}\n{list(documented)}"
        for key in documented:
            same_shape(documented[key], ours[key], f"{where}.{key}")
        return
    assert shape(ours) == shape(documented), f"{where}: {ours!r} vs documented {documented!r}"


@pytest.fixture
def sandbox(clock: ManualClock) -> Any:
    """Without the rate limits (the tests of the limits make their own)."""
    return create_sandbox(clock=clock, rate_limits=False)


async def call(sandbox: Any, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
    async with sandbox.client(headers=TOKEN) as client:
        return await client.request(method, API + path, json=body, params=params or None)


async def provision(sandbox: Any) -> tuple[int, int, int]:
    """A list, a tag and a listbox field with options a and b: their ids."""
    lst = await call(sandbox, "POST", "/lists", {"list": {"name": "Customers", "stringid": "customers",
                                                          "sender_url": "", "sender_reminder": "r"}})
    tag = await call(sandbox, "POST", "/tags", {"tag": {"tag": "VIP", "tagType": "contact", "description": ""}})
    fld = await call(sandbox, "POST", "/fields", {"field": {"title": "Likes", "type": "listbox"}})
    field_id = int(fld.json()["fields"][0]["id"])
    await call(sandbox, "POST", "/fieldOption/bulk", {"fieldOptions": [{"field": str(field_id), "value": v}
                                                                      for v in ("a", "b")]})
    return int(lst.json()["list"]["id"]), int(tag.json()["tag"]["id"]), field_id


async def imported(sandbox: Any, clock: ManualClock, contacts: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    queued = await call(sandbox, "POST", "/import/bulk_import", {"contacts": contacts, **top})
    assert queued.status_code == 200, queued.text
    clock.advance(60)
    info = await call(sandbox, "GET", "/import/info", batchId=queued.json()["batchId"])
    return info.json()


# -- auth -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Api-Token": "wrong"}])
async def test_requests_without_the_token_are_refused_403(sandbox: Any, headers: dict[str, str]) -> None:
    async with sandbox.client(headers=headers) as client:
        response = await client.get(f"{API}/contacts")
    assert response.status_code == 403
    assert response.json() == {"message": "You are not authorized to access this resource"}


# -- shapes ---------------------------------------------------------------------------------------
async def test_answers_have_the_shapes_of_the_docs_examples(sandbox: Any, clock: ManualClock) -> None:
    list_id, tag_id, field_id = await provision(sandbox)
    queued = await call(sandbox, "POST", "/import/bulk_import", {"contacts": [
        {"email": "ada@example.com", "fields": [{"id": field_id, "value": "||a||b||"}]},
        {"email": "bob@invalidDomain"}]})
    same_shape(example("bulk_import_response"), queued.json(), "bulk_import")
    clock.advance(10)
    info = await call(sandbox, "GET", "/import/info", batchId=queued.json()["batchId"])
    same_shape(example("import_info_status"), info.json(), "import/info")
    contact_id = int(info.json()["success"][0])

    same_shape(example("contacts_list"), (await call(sandbox, "GET", "/contacts")).json(), "contacts")
    status = await call(sandbox, "POST", "/contactLists", {"contactList": {"list": str(list_id),
                                                                          "contact": str(contact_id), "status": "1"}})
    same_shape(example("contactLists_update_status"), status.json(), "contactLists")
    tagged = await call(sandbox, "POST", "/contactTags", {"contactTag": {"contact": contact_id, "tag": tag_id}})
    assert tagged.status_code == 201
    same_shape(example("contactTags_create"), tagged.json(), "contactTags")
    value = await call(sandbox, "POST", "/fieldValues", {"fieldValue": {"contact": str(contact_id),
                                                                       "field": str(field_id), "value": "||a||"}})
    same_shape(example("fieldValues_create"), value.json(), "fieldValues")
    same_shape(example("fields_create"), (await call(sandbox, "GET", "/fields")).json(), "fields")

    refused = await call(sandbox, "POST", "/import/bulk_import", {"contacts": [{"email": "not-an-email"}]})
    assert refused.status_code == 400
    same_shape(example("bulk_import_errors_400")["Contact Create Fail"], refused.json(), "bulk_import 400")


async def test_the_docs_example_import_request_is_accepted(sandbox: Any, clock: ManualClock) -> None:
    await provision(sandbox)  # list 1, tag 2, field 3
    request = example("bulk_import_request")
    info = await imported(sandbox, clock, request["contacts"])
    account = account_of(sandbox)
    contact = account.contact_by_email("someone@somewhere.com")
    assert contact is not None and info == {"status": "completed", "success": [str(contact.id)], "failure": []}
    assert (contact.first_name, contact.last_name, contact.phone) == ("Jane", "Doe", "123-456-7890")
    # the example's four tag names were created; list 1 is the only list that exists (2 and 3 do not)
    assert {account.tags[t.tag].tag for t in account.tags_of(contact.id)} == {
        "dictumst", "aliquam", "augue quam", "sollicitudin rutrum"}
    assert account.list_status(contact.id, 1) == 1
    assert importer_of(sandbox).jobs[next(iter(importer_of(sandbox).jobs))].exclude_automations is False


# -- the importer ---------------------------------------------------------------------------------
async def test_an_import_is_queued_then_completed_on_the_clock(sandbox: Any, clock: ManualClock) -> None:
    queued = await call(sandbox, "POST", "/import/bulk_import",
                        {"contacts": [{"email": f"p{i}@example.com"} for i in range(100)]})
    batch = queued.json()["batchId"]
    assert queued.json()["queued_contacts"] == 100
    clock.advance(1.99)  # 1 s + 100 x 0.01 s = 2 s
    assert (await call(sandbox, "GET", "/import/info", batchId=batch)).json()["status"] == "queued"
    clock.advance(0.01)
    done = (await call(sandbox, "GET", "/import/info", batchId=batch)).json()
    assert done["status"] == "completed" and len(done["success"]) == 100 and done["failure"] == []


async def test_excluded_and_undeliverable_emails_are_listed_as_failures(clock: ManualClock) -> None:
    sandbox = create_sandbox(clock=clock, exclusions=["Gone@Example.com"], rate_limits=False)
    info = await imported(sandbox, clock, [{"email": "ok@example.com"}, {"email": "gone@example.com"},
                                           {"email": "x@nodot"}, {"email": "o'hara@example.com"}])
    assert info["failure"] == ["gone@example.com", "x@nodot", "o'hara@example.com"]
    assert len(info["success"]) == 1 and len(account_of(sandbox).contacts) == 1


@pytest.mark.parametrize(("contacts", "padding", "reason"), [
    (251, 0, "Up to 250 contacts may be imported per request (251 received)."),
    (1, 400_000, "Payload too large"),
])
async def test_imports_over_the_limits_are_refused_with_400(sandbox: Any, contacts: int, padding: int,
                                                           reason: str) -> None:
    body = {"contacts": [{"email": f"p{i}@example.com", "first_name": "x" * padding} for i in range(contacts)]}
    response = await call(sandbox, "POST", "/import/bulk_import", body)
    assert response.status_code == 400
    assert response.json()["success"] == 0 and response.json()["failureReasons"][0].startswith(reason)
    assert importer_of(sandbox).jobs == {}


async def test_a_body_of_399999_bytes_is_accepted(sandbox: Any) -> None:
    head = b'{"contacts":[{"email":"a@example.com","first_name":"'
    tail = b'"}]}'
    content = head + b"x" * (399_999 - len(head) - len(tail)) + tail
    async with sandbox.client(headers=TOKEN) as client:
        response = await client.post(f"{API}/import/bulk_import", content=content)
    assert len(content) == 399_999 and response.status_code == 200


# -- limits ---------------------------------------------------------------------------------------
async def test_past_5_requests_a_second_the_account_answers_429(clock: ManualClock) -> None:
    sandbox = create_sandbox(clock=clock)
    statuses = [(await call(sandbox, "GET", "/lists")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    clock.advance(1.0)
    assert (await call(sandbox, "GET", "/lists")).status_code == 200


@pytest.mark.parametrize(("size", "per_minute"), [(2, 100), (1, 20)])
async def test_bulk_imports_are_limited_per_minute(clock: ManualClock, size: int, per_minute: int) -> None:
    sandbox = create_sandbox(clock=clock)
    body = {"contacts": [{"email": f"p{i}@example.com"} for i in range(size)]}
    for _ in range(per_minute):
        assert (await call(sandbox, "POST", "/import/bulk_import", body)).status_code == 200
        clock.advance(0.25)  # under 5 requests a second
    refused = await call(sandbox, "POST", "/import/bulk_import", body)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(60 - int(per_minute * 0.25))
    assert refused.json()["failureReasons"][0].startswith(f"Up to {per_minute} imports may be requested per minute")


# -- consent --------------------------------------------------------------------------------------
async def test_an_unsubscribed_contact_stays_unsubscribed_unless_status_1_is_asked(sandbox: Any,
                                                                                   clock: ManualClock) -> None:
    list_id, _, _ = await provision(sandbox)
    info = await imported(sandbox, clock, [{"email": "ada@example.com", "unsubscribe": [{"listid": str(list_id)}]}])
    contact_id = int(info["success"][0])
    account = account_of(sandbox)
    await imported(sandbox, clock, [{"email": "ada@example.com", "first_name": "Ada", "tags": ["VIP"]}])
    assert account.list_status(contact_id, list_id) == UNSUBSCRIBED and account.resubscriptions == []
    await call(sandbox, "POST", "/contactLists", {"contactList": {"list": str(list_id), "contact": str(contact_id),
                                                                 "status": "1"}})
    assert [(r.contact, r.list, r.via) for r in account.resubscriptions] == [(contact_id, list_id, "contactLists")]


# -- contacts -------------------------------------------------------------------------------------
async def test_contacts_filter_by_list_status_tag_and_update_time(sandbox: Any, clock: ManualClock) -> None:
    list_id, tag_id, _ = await provision(sandbox)
    await imported(sandbox, clock, [{"email": "a@example.com", "subscribe": [{"listid": str(list_id)}]},
                                    {"email": "b@example.com", "unsubscribe": [{"listid": str(list_id)}],
                                     "tags": ["VIP"]},
                                    {"email": "c@example.com"}])
    clock.advance(2 * 86400)  # imported 2026-01-15 03:01 in Chicago (the account time); now 2026-01-17 03:01
    later = account_of(sandbox).contact_by_email("c@example.com")
    assert later is not None
    tagged = await call(sandbox, "POST", "/contactTags", {"contactTag": {"contact": later.id, "tag": tag_id}})
    assert tagged.status_code == 201

    async def emails(**params: Any) -> list[str]:
        body = (await call(sandbox, "GET", "/contacts", **params)).json()
        return [c["email"] for c in body["contacts"]]

    assert await emails(listid=str(list_id), status=1) == ["a@example.com"]
    assert await emails(listid=str(list_id), status=2) == ["b@example.com"]
    assert await emails(listid=str(list_id)) == ["a@example.com", "b@example.com"]
    assert await emails(tagid=tag_id) == ["b@example.com", "c@example.com"]
    assert await emails(**{"filters[updated_after]": "2026-01-16"}) == ["c@example.com"]
    assert await emails(email="C@Example.com") == ["c@example.com"]
    page = (await call(sandbox, "GET", "/contacts", limit=2, offset=2)).json()
    assert [c["email"] for c in page["contacts"]] == ["c@example.com"] and page["meta"]["total"] == "3"


async def test_errors_have_activecampaigns_shapes(sandbox: Any) -> None:
    missing = await call(sandbox, "GET", "/contacts/99")
    assert (missing.status_code, missing.json()) == (404, {"message": "No Result found for Subscriber with id 99"})
    await call(sandbox, "POST", "/tags", {"tag": {"tag": "VIP"}})
    duplicate = await call(sandbox, "POST", "/tags", {"tag": {"tag": "vip"}})
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["code"] == "duplicate"
    untag = await call(sandbox, "DELETE", "/contactTags/42")
    assert untag.json() == {"message": "No Result found for SubscriberTag with id 42"}


async def test_changing_an_email_to_one_in_use_is_422(sandbox: Any, clock: ManualClock) -> None:
    info = await imported(sandbox, clock, [{"email": "a@example.com"}, {"email": "b@example.com"}])
    first = info["success"][0]
    clash = await call(sandbox, "PUT", f"/contacts/{first}", {"contact": {"email": "B@example.com"}})
    assert clash.status_code == 422 and clash.json()["errors"][0]["code"] == "duplicate"
    moved = await call(sandbox, "PUT", f"/contacts/{first}", {"contact": {"email": "c@example.com"}})
    assert moved.json()["contact"]["email"] == "c@example.com"
    assert sorted(c.email for c in account_of(sandbox).contacts.values()) == ["b@example.com", "c@example.com"]


# -- state and serving ----------------------------------------------------------------------------
async def test_state_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "ac.json"
    sandbox = create_sandbox(clock=clock, state_file=path, rate_limits=False)
    list_id, _, _ = await provision(sandbox)
    info = await imported(sandbox, clock, [{"email": "ada@example.com", "tags": ["VIP"],
                                            "unsubscribe": [{"listid": str(list_id)}]}])
    pending = await call(sandbox, "POST", "/import/bulk_import", {"contacts": [{"email": "bob@example.com"}]})
    sandbox.save()

    again = create_sandbox(clock=clock, state_file=path, rate_limits=False)
    contact = account_of(again).contact_by_email("ada@example.com")
    assert contact is not None and str(contact.id) == info["success"][0]
    assert account_of(again).list_status(contact.id, list_id) == UNSUBSCRIBED
    assert [account_of(again).tags[t.tag].tag for t in account_of(again).tags_of(contact.id)] == ["VIP"]
    clock.advance(5)
    done = await call(again, "GET", "/import/info", batchId=pending.json()["batchId"])
    assert done.json()["status"] == "completed"
    assert account_of(again).contact_by_email("bob@example.com") is not None


def test_the_cli_finds_the_sandbox_and_it_serves_on_loopback(clock: ManualClock) -> None:
    factory = load_platforms()["activecampaign"].load_sandbox()
    sandbox = factory(state_file=None)
    with ServedSandbox(sandbox) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        refused = httpx.get(f"{base_url}{API}/lists")
        answered = httpx.get(f"{base_url}{API}/lists", headers=TOKEN)
    assert refused.status_code == 403 and answered.status_code == 200 and answered.json()["lists"] == []
    assert any(SANDBOX_TOKEN in line for line in sandbox.describe(base_url))
