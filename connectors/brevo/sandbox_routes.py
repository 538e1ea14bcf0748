"""The Brevo sandbox's endpoints (API v3), shaped as the OpenAPI document and the docs' examples.

Contacts (``GET/POST /contacts``, ``GET/PUT /contacts/{identifier}``), ``POST /contacts/import``,
folders, lists and their ``contacts/add|remove``, attributes (``GET /contacts/attributes``,
``POST/PUT /contacts/attributes/{category}/{name}``) and ``GET /processes[/{id}]``. Errors are
``{"code", "message"}`` with Brevo's codes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.clock import Clock
from connectors.brevo.sandbox_imports import ImportQueue
from connectors.brevo.sandbox_store import AccountError, Attribute, BrevoAccount, Change, parse_time

__all__ = ["MAX_IMPORT_BYTES", "routes"]

MAX_IMPORT_BYTES = 10 * 1024 * 1024  # "Maximum allowed json body size is 10MB"
MAX_LIST_BATCH = 150  # emails or ids per contacts/add|remove request
_ATTRIBUTE_TYPES = {"text", "date", "float", "boolean", "multiple-choice"}
Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except AccountError as exc:
            return error(exc.status, exc.code, exc.message)

    return run


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise AccountError(400, "bad_request", "Input must be a valid JSON object") from None
    if not isinstance(data, dict):
        raise AccountError(400, "bad_request", "Input must be a valid JSON object")
    return data


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise AccountError(400, "invalid_parameter", f"{name} must be a non-negative integer")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise AccountError(400, "out_of_range", f"{name} exceeds the maximum of {maximum}")
    return value


def _id_list(value: object, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise AccountError(400, "invalid_parameter", f"{name} must be an array of integers")
    return tuple(value)


def routes(account: BrevoAccount, imports: ImportQueue, clock: Clock, *, max_import_bytes: int) -> list[Route]:
    """The sandbox's routes over ``account`` (``max_import_bytes``: the import body limit)."""

    def page(items: list[Any], request: Request, *, default: int, maximum: int) -> list[Any]:
        limit = _int_param(request, "limit", default, maximum)
        offset = _int_param(request, "offset", 0)
        if request.query_params.get("sort", "desc") == "desc":
            items = items[::-1]
        return items[offset: offset + limit]

    def list_totals(ids: set[int]) -> dict[int, tuple[int, int]]:
        totals = {i: [0, 0] for i in ids}
        for contact in account.contacts.values():
            for list_id in contact.list_ids & ids:
                totals[list_id][1 if contact.email_blacklisted else 0] += 1
        return {k: (v[0], v[1]) for k, v in totals.items()}

    def render_list(list_id: int, totals: tuple[int, int]) -> dict[str, Any]:
        info = account.lists[list_id]
        return {"id": list_id, "name": info["name"], "totalSubscribers": totals[0], "totalBlacklisted": totals[1],
                "uniqueSubscribers": totals[0] + totals[1], "folderId": info["folderId"]}

    # ---------------------------------------------------------------- contacts
    async def get_contacts(request: Request) -> Response:
        contacts = list(account.contacts.values())  # ids only grow, so this is creation order
        if "modifiedSince" in request.query_params:
            since = parse_time(request.query_params["modifiedSince"], "modifiedSince")
            contacts = [c for c in contacts if c.modified_at > since]
        if "createdSince" in request.query_params:
            since = parse_time(request.query_params["createdSince"], "createdSince")
            contacts = [c for c in contacts if c.created_at > since]
        if "listIds" in request.query_params:
            wanted = {int(v) for v in request.query_params.getlist("listIds") if v.isdigit()}
            contacts = [c for c in contacts if c.list_ids & wanted]
        count = len(contacts)
        chosen = page(contacts, request, default=50, maximum=1000)
        return JSONResponse({"contacts": [c.render() for c in chosen], "count": count})

    async def create_contact(request: Request) -> Response:
        body = await _body(request)
        attributes = body.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise AccountError(400, "invalid_parameter", "attributes must be an object")
        email = account.check_email(body["email"]) if body.get("email") is not None else None
        if email is None and not body.get("ext_id") and not attributes.get("SMS"):
            raise AccountError(400, "missing_parameter", "email, ext_id or SMS is required")
        change = Change(attributes=dict(attributes), ext_id=body.get("ext_id"),
                        email_blacklisted=body.get("emailBlacklisted"), sms_blacklisted=body.get("smsBlacklisted"),
                        add_lists=tuple(account.list_id(i) for i in _id_list(body.get("listIds"), "listIds")))
        existing = account.find(email, "email_id") if email else None
        if existing is not None:
            if not body.get("updateEnabled"):
                raise AccountError(400, "duplicate_parameter", "Contact already exist")
            account.update(existing, change, clock.now(), via="POST /contacts")
            return Response(status_code=204)
        contact = account.create(email, clock.now(), change)
        return JSONResponse({"id": contact.id}, status_code=201)

    def _contact(request: Request) -> Any:
        contact = account.find(request.path_params["identifier"], request.query_params.get("identifierType"))
        if contact is None:
            raise AccountError(404, "document_not_found", "Contact does not exist")
        return contact

    async def get_contact(request: Request) -> Response:
        return JSONResponse({**_contact(request).render(), "statistics": {}})

    async def update_contact(request: Request) -> Response:
        contact = _contact(request)
        body = await _body(request)
        attributes = dict(body.get("attributes") or {})
        new_email = attributes.pop("EMAIL", None)
        change = Change(attributes=attributes, new_email=new_email, ext_id=body.get("ext_id"),
                        email_blacklisted=body.get("emailBlacklisted"), sms_blacklisted=body.get("smsBlacklisted"),
                        add_lists=tuple(account.list_id(i) for i in _id_list(body.get("listIds"), "listIds")),
                        remove_lists=tuple(account.list_id(i) for i in _id_list(body.get("unlinkListIds"),
                                                                                "unlinkListIds")))
        account.update(contact, change, clock.now(), via="PUT /contacts/{identifier}")
        return Response(status_code=204)

    async def import_contacts(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > max_import_bytes:
            raise AccountError(400, "invalid_parameter", "The import body exceeds the maximum allowed size of 10MB")
        body = await _body(request)
        sources = [k for k in ("fileUrl", "fileBody", "jsonBody") if body.get(k) is not None]
        if len(sources) != 1:
            raise AccountError(400, "invalid_parameter", "Exactly one of fileUrl, fileBody or jsonBody is required")
        if sources[0] != "jsonBody":
            raise AccountError(400, "invalid_parameter", "The sandbox imports jsonBody only")
        rows = body["jsonBody"]
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise AccountError(400, "invalid_parameter", "jsonBody must be a non-empty array of objects")
        list_ids = tuple(account.list_id(i) for i in _id_list(body.get("listIds"), "listIds"))
        if not list_ids and not body.get("newList"):
            raise AccountError(400, "missing_parameter", "listIds or newList is required")
        if body.get("newList"):
            raise AccountError(400, "invalid_parameter", "The sandbox does not create lists on import (use listIds)")
        options = {k: body[k] for k in ("updateExistingContacts", "emptyContactsAttributes", "emailBlacklist",
                                        "smsBlacklist", "notifyUrl") if k in body}
        options["listIds"] = list(list_ids)
        process = imports.submit(rows, options)
        return JSONResponse({"processId": process.id}, status_code=202)

    # ---------------------------------------------------------------- folders and lists
    async def get_folders(request: Request) -> Response:
        ids = sorted(account.folders)
        chosen = page(ids, request, default=10, maximum=50)
        totals = list_totals(set(account.lists))
        out = []
        for folder_id in chosen:
            mine = [totals[i] for i, info in account.lists.items() if info["folderId"] == folder_id]
            subscribers, blocked = sum(t[0] for t in mine), sum(t[1] for t in mine)
            out.append({"id": folder_id, "name": account.folders[folder_id], "totalBlacklisted": blocked,
                        "totalSubscribers": subscribers, "uniqueSubscribers": subscribers + blocked})
        return JSONResponse({"folders": out, "count": len(ids)})

    async def create_folder(request: Request) -> Response:
        name = (await _body(request)).get("name")
        if not isinstance(name, str) or not name.strip():
            raise AccountError(400, "missing_parameter", "name is required")
        if name in account.folders.values():
            raise AccountError(400, "duplicate_parameter", "Folder name already exists")
        folder_id = account.next_id["folder"]
        account.next_id["folder"] += 1
        account.folders[folder_id] = name
        return JSONResponse({"id": folder_id}, status_code=201)

    async def get_lists(request: Request) -> Response:
        ids = sorted(account.lists)
        chosen = page(ids, request, default=10, maximum=50)
        totals = list_totals(set(chosen))
        return JSONResponse({"lists": [render_list(i, totals[i]) for i in chosen], "count": len(ids)})

    async def create_list(request: Request) -> Response:
        body = await _body(request)
        name, folder = body.get("name"), body.get("folderId")
        if not isinstance(name, str) or not name.strip() or not isinstance(folder, int):
            raise AccountError(400, "missing_parameter", "name and folderId are required")
        if folder not in account.folders:
            raise AccountError(404, "document_not_found", "Folder ID not found")
        if any(i["name"] == name and i["folderId"] == folder for i in account.lists.values()):
            raise AccountError(400, "duplicate_parameter", "List name already exists in this folder")
        list_id = account.next_id["list"]
        account.next_id["list"] += 1
        account.lists[list_id] = {"name": name, "folderId": folder}
        return JSONResponse({"id": list_id}, status_code=201)

    async def get_list(request: Request) -> Response:
        list_id = account.list_id(int(request.path_params["list_id"]))
        return JSONResponse(render_list(list_id, list_totals({list_id})[list_id]))

    def membership(adding: bool) -> Handler:
        async def handle(request: Request) -> Response:
            list_id = account.list_id(int(request.path_params["list_id"]))
            body = await _body(request)
            keys = [k for k in ("emails", "ids", "extIds") if body.get(k) is not None]
            if len(keys) != 1 or not isinstance(body[keys[0]], list) or not body[keys[0]]:
                raise AccountError(400, "invalid_parameter", "Pass exactly one of emails, ids or extIds")
            values = body[keys[0]]
            if len(values) > MAX_LIST_BATCH:
                raise AccountError(400, "out_of_range", f"You can pass a maximum of {MAX_LIST_BATCH} contacts")
            kind = {"emails": "email_id", "ids": "contact_id", "extIds": "ext_id"}[keys[0]]
            success, failure = [], []
            for value in values:
                contact = account.find(str(value), kind)
                if contact is None or (list_id in contact.list_ids) == adding:
                    failure.append(value)
                    continue
                change = Change(add_lists=(list_id,)) if adding else Change(remove_lists=(list_id,))
                account.update(contact, change, clock.now(), via=request.url.path)
                success.append(value)
            return JSONResponse({"contacts": {"success": success, "failure": failure}}, status_code=201)

        return handle

    # ---------------------------------------------------------------- attributes
    async def get_attributes(request: Request) -> Response:
        return JSONResponse({"attributes": [a.render() for a in account.attributes.values()]})

    async def create_attribute(request: Request) -> Response:
        category, name = request.path_params["category"], request.path_params["name"].upper()
        body = await _body(request)
        if category != "normal":
            raise AccountError(400, "invalid_parameter", "The sandbox creates normal attributes only")
        kind = body.get("type", "text")
        if kind not in _ATTRIBUTE_TYPES:
            raise AccountError(400, "invalid_parameter", f"Attribute type {kind} is not valid for category normal")
        if name in account.attributes:
            raise AccountError(400, "duplicate_parameter", "Attribute name already exists")
        options = body.get("multiCategoryOptions") or []
        if kind == "multiple-choice" and not options:
            raise AccountError(400, "missing_parameter", "multiCategoryOptions is required for multiple-choice")
        account.attributes[name] = Attribute(name, "normal", kind, list(dict.fromkeys(options)))
        return Response(status_code=201)

    async def update_attribute(request: Request) -> Response:
        name = request.path_params["name"].upper()
        attribute = account.attributes.get(name)
        if attribute is None or attribute.category != request.path_params["category"]:
            raise AccountError(404, "document_not_found", "Attribute not found")
        options = (await _body(request)).get("multiCategoryOptions") or []
        if attribute.type != "multiple-choice" or not isinstance(options, list):
            raise AccountError(400, "invalid_parameter", "multiCategoryOptions is for multiple-choice attributes")
        attribute.options = list(dict.fromkeys([*attribute.options, *options]))
        return Response(status_code=204)

    # ---------------------------------------------------------------- processes
    async def get_process(request: Request) -> Response:
        raw = request.path_params["process_id"]
        process = imports.processes.get(int(raw)) if raw.isdigit() else None
        if process is None:
            raise AccountError(404, "invalid_parameter", "processId is invalid")
        return JSONResponse(process.render(clock.now()))

    async def get_processes(request: Request) -> Response:
        ids = sorted(imports.processes)
        chosen = page(ids, request, default=10, maximum=50)
        now = clock.now()
        return JSONResponse({"processes": [imports.processes[i].render(now) for i in chosen], "count": len(ids)})

    table: list[tuple[str, Handler, list[str]]] = [
        ("/v3/contacts", get_contacts, ["GET"]),
        ("/v3/contacts", create_contact, ["POST"]),
        ("/v3/contacts/import", import_contacts, ["POST"]),
        ("/v3/contacts/folders", get_folders, ["GET"]),
        ("/v3/contacts/folders", create_folder, ["POST"]),
        ("/v3/contacts/lists", get_lists, ["GET"]),
        ("/v3/contacts/lists", create_list, ["POST"]),
        ("/v3/contacts/lists/{list_id:int}", get_list, ["GET"]),
        ("/v3/contacts/lists/{list_id:int}/contacts/add", membership(True), ["POST"]),
        ("/v3/contacts/lists/{list_id:int}/contacts/remove", membership(False), ["POST"]),
        ("/v3/contacts/attributes", get_attributes, ["GET"]),
        ("/v3/contacts/attributes/{category}/{name}", create_attribute, ["POST"]),
        ("/v3/contacts/attributes/{category}/{name}", update_attribute, ["PUT"]),
        ("/v3/contacts/{identifier}", get_contact, ["GET"]),
        ("/v3/contacts/{identifier}", update_contact, ["PUT"]),
        ("/v3/processes", get_processes, ["GET"]),
        ("/v3/processes/{process_id}", get_process, ["GET"]),
    ]
    return [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]
