"""The sandbox's contact routes: contacts, ``contact/sync``, list statuses, contact tags, field values.

``GET /contacts`` filters as ActiveCampaign does: ``email`` (exact, any case), ``listid`` with
``status`` (the contact's status on that list; -1 any), ``tagid``, ``filters[updated_after]``;
sorted by id; ``limit`` (default 20, at most 100) and ``offset``; ``meta.total`` counts the
whole selection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.activecampaign.sandbox_http import (
    API_ROOT,
    AcSandbox,
    BadRequest,
    answer,
    not_found,
    query_int,
    read_json,
    unprocessable,
    updated_after,
)
from connectors.activecampaign.sandbox_store import SUBSCRIBED, UNSUBSCRIBED, AcContact

__all__ = ["contact_routes", "guarded"]

Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """A handler whose :class:`BadRequest` becomes ActiveCampaign's 400."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as exc:
            return answer({"message": str(exc)}, 400)

    return run


def _path_id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except ValueError:
        raise BadRequest(f"Invalid id {request.path_params['id']!r}") from None


def _attr_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def contact_routes(sb: AcSandbox) -> list[Route]:
    account = sb.account

    def select(request: Request) -> list[AcContact]:
        query = request.query_params
        chosen = list(account.contacts.values())
        if (email := query.get("email")) is not None:
            found = account.contact_by_email(email)
            chosen = [found] if found is not None else []
        list_id = query_int(request, "listid")
        status = query_int(request, "status", -1)
        if list_id is not None:
            chosen = [c for c in chosen if (s := account.list_status(c.id, list_id)) is not None
                      and (status == -1 or s == status)]
        if (tag_id := query_int(request, "tagid")) is not None:
            tagged = {t.contact for t in account.contact_tags.values() if t.tag == tag_id}
            chosen = [c for c in chosen if c.id in tagged]
        if (after := query.get("filters[updated_after]")) is not None:
            threshold = updated_after(after, sb.tz)
            chosen = [c for c in chosen if c.udate > threshold]
        if (greater := query_int(request, "id_greater")) is not None:
            chosen = [c for c in chosen if c.id > greater]
        descending = query.get("orders[id]", "ASC").upper() == "DESC"
        return sorted(chosen, key=lambda c: c.id, reverse=descending)

    async def list_contacts(request: Request) -> Response:
        limit = min(max(query_int(request, "limit", 20) or 20, 1), 100)
        offset = max(query_int(request, "offset", 0) or 0, 0)
        with account.lock:
            chosen = select(request)
            render = sb.renderer(request)
            page = [render.contact_in_list(c) for c in chosen[offset: offset + limit]]
        page_input = {"segmentid": 0, "formid": 0, "listid": query_int(request, "listid", 0), "tagid":
                      query_int(request, "tagid", 0), "limit": limit, "offset": offset, "search": None, "sort": None,
                      "seriesid": 0, "waitid": 0, "status": query_int(request, "status", -1), "forceQuery": 0,
                      "cacheid": ""}
        return answer({"scoreValues": [], "contacts": page, "meta": {"total": str(len(chosen)),
                                                                     "page_input": page_input}})

    def contact_or_404(contact_id: int) -> AcContact | Response:
        contact = account.contacts.get(contact_id)
        return contact if contact is not None else not_found("Subscriber", contact_id)

    async def write_contact(request: Request, *, create_only: bool) -> Response:
        """``POST /contacts`` (create; a known email is a 422) and ``POST /contact/sync`` (upsert)."""
        body = (await read_json(request)).get("contact") or {}
        email = str(body.get("email") or "").strip()
        if "@" not in email:
            return unprocessable("Contact Email is not a valid email address", "email", "email_invalid")
        with account.lock:
            if create_only and account.contact_by_email(email) is not None:
                return unprocessable("Email address already exists in the system", "email", "duplicate")
            contact = account.upsert_contact(email, first_name=body.get("firstName"),
                                             last_name=body.get("lastName"), phone=body.get("phone"))
            values = _apply_values(sb, contact.id, body.get("fieldValues"))
            render = sb.renderer(request)
            return answer({"fieldValues": [render.field_value(v) for v in values],
                           "contact": render.contact_synced(contact, [v.id for v in values])}, 201)

    async def create_contact(request: Request) -> Response:
        return await write_contact(request, create_only=True)

    async def sync_contact(request: Request) -> Response:
        return await write_contact(request, create_only=False)

    async def get_contact(request: Request) -> Response:
        with account.lock:
            found = contact_or_404(_path_id(request))
            if isinstance(found, Response):
                return found
            render = sb.renderer(request)
            memberships = account.memberships_of(found.id)
            values = account.values_of(found.id)
            contact = render.contact_single(found)
            contact.update(contactLists=[str(m.id) for m in memberships], fieldValues=[str(v.id) for v in values])
            return answer({
                "contactAutomations": [], "contactLists": [render.membership_of_contact(m, found) for m in memberships],
                "deals": [], "fieldValues": [render.field_value(v) for v in values], "geoAddresses": [],
                "geoIps": [], "contact": contact,
            })

    async def update_contact(request: Request) -> Response:
        body = (await read_json(request)).get("contact") or {}
        with account.lock:
            found = contact_or_404(_path_id(request))
            if isinstance(found, Response):
                return found
            if (email := body.get("email")) is not None:
                email = str(email).strip()
                other = account.contact_by_email(email)
                if "@" not in email:
                    return unprocessable("Contact Email is not a valid email address", "email", "email_invalid")
                if other is not None and other.id != found.id:
                    return unprocessable("Email address already exists in the system", "email", "duplicate")
                account.change_email(found, email)
            account.upsert_contact(found.email, first_name=body.get("firstName"), last_name=body.get("lastName"),
                                   phone=body.get("phone"))
            values = _apply_values(sb, found.id, body.get("fieldValues"))
            render = sb.renderer(request)
            return answer({"fieldValues": [render.field_value(v) for v in values],
                           "contact": render.contact_full(found)})

    async def delete_contact(request: Request) -> Response:
        with account.lock:
            found = contact_or_404(_path_id(request))
            if isinstance(found, Response):
                return found
            account.delete_contact(found.id)
        return answer({})

    async def set_list_status(request: Request) -> Response:
        body = (await read_json(request)).get("contactList") or {}
        list_id, contact_id, status = (_attr_int(body.get(k)) for k in ("list", "contact", "status"))
        for name, value in (("list", list_id), ("contact", contact_id), ("status", status)):
            if value is None:
                return unprocessable(f"Missing or invalid attribute: {name}", name, "field_missing")
        if status not in (SUBSCRIBED, UNSUBSCRIBED):
            return unprocessable("Status must be 1 (active) or 2 (unsubscribed)", "status", "invalid")
        with account.lock:
            contact = account.contacts.get(contact_id)  # type: ignore[arg-type]
            if contact is None:
                return not_found("Subscriber", contact_id)
            if list_id not in account.lists:
                return not_found("List", list_id)
            membership = account.set_list_status(contact.id, list_id, status, via="contactLists")  # type: ignore[arg-type]
            render = sb.renderer(request)
            return answer({"contacts": [render.contact_full(contact)],
                           "contactList": render.membership(membership, contact)})

    async def lists_of_contact(request: Request) -> Response:
        with account.lock:
            found = contact_or_404(_path_id(request))
            if isinstance(found, Response):
                return found
            render = sb.renderer(request)
            return answer({"contactLists": [render.membership_of_contact(m, found)
                                            for m in account.memberships_of(found.id)]})

    async def add_contact_tag(request: Request) -> Response:
        body = (await read_json(request)).get("contactTag") or {}
        contact_id, tag_id = _attr_int(body.get("contact")), _attr_int(body.get("tag"))
        for name, value in (("contact", contact_id), ("tag", tag_id)):
            if value is None:
                return answer({"errors": [{"status": 422, "title": "Missing attribute",
                                           "source": {"pointer": f"/data/attributes/{name}"}}]}, 422)
        with account.lock:
            if contact_id not in account.contacts:
                return answer({"errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]}, 404)
            if tag_id not in account.tags:
                return answer({"errors": [{"status": 404, "title": "Not Found", "detail": "Tag not found"}]}, 404)
            link = account.tag_contact(contact_id, tag_id)  # type: ignore[arg-type]
            return answer({"contactTag": sb.renderer(request).contact_tag(link)}, 201)

    async def remove_contact_tag(request: Request) -> Response:
        key = _path_id(request)
        with account.lock:
            if key not in account.contact_tags:
                return not_found("SubscriberTag", key)
            account.untag(key)
        return answer({})

    async def tags_of_contact(request: Request) -> Response:
        with account.lock:
            found = contact_or_404(_path_id(request))
            if isinstance(found, Response):
                return found
            render = sb.renderer(request)
            return answer({"contactTags": [render.contact_tag_of_contact(t) for t in account.tags_of(found.id)]})

    async def create_field_value(request: Request) -> Response:
        body = (await read_json(request)).get("fieldValue") or {}
        contact_id, field_id = _attr_int(body.get("contact")), _attr_int(body.get("field"))
        with account.lock:
            contact = account.contacts.get(contact_id)  # type: ignore[arg-type]
            if contact is None:
                return not_found("Subscriber", contact_id)
            if field_id not in account.fields:
                return not_found("Field", field_id)
            row = account.set_field_value(contact.id, field_id, str(body.get("value", "")))  # type: ignore[arg-type]
            render = sb.renderer(request)
            return answer({"contacts": [render.contact_sparse(contact)], "fieldValue": render.field_value_created(row)})

    async def values_of_contact(request: Request) -> Response:
        with account.lock:
            found = contact_or_404(_path_id(request))
            if isinstance(found, Response):
                return found
            render = sb.renderer(request)
            return answer({"fieldValues": [render.field_value(v) for v in account.values_of(found.id)]})

    root = API_ROOT
    table: list[tuple[str, Handler, str]] = [
        ("/contacts", list_contacts, "GET"),
        ("/contacts", create_contact, "POST"),
        ("/contact/sync", sync_contact, "POST"),
        ("/contacts/{id}", get_contact, "GET"),
        ("/contacts/{id}", update_contact, "PUT"),
        ("/contacts/{id}", delete_contact, "DELETE"),
        ("/contactLists", set_list_status, "POST"),
        ("/contacts/{id}/contactLists", lists_of_contact, "GET"),
        ("/contactTags", add_contact_tag, "POST"),
        ("/contactTags/{id}", remove_contact_tag, "DELETE"),
        ("/contacts/{id}/contactTags", tags_of_contact, "GET"),
        ("/fieldValues", create_field_value, "POST"),
        ("/contacts/{id}/fieldValues", values_of_contact, "GET"),
    ]
    return [Route(root + path, guarded(handler), methods=[method]) for path, handler, method in table]


def _apply_values(sb: AcSandbox, contact_id: int, raw: Any) -> list[Any]:
    """``fieldValues: [{field, value}]`` of a contact write: unknown fields are ignored."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest("'fieldValues' must be an array")
    rows = []
    for item in raw:
        field_id = _attr_int(item.get("field")) if isinstance(item, dict) else None
        if field_id in sb.account.fields:
            rows.append(sb.account.set_field_value(contact_id, field_id, str(item.get("value", ""))))  # type: ignore[arg-type]
    return rows
