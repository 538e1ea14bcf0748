"""The sandbox's account-structure routes: lists, tags, custom fields, their options and list relations.

Creating something that exists already (a list ``stringid``, a tag name, a field title; any case)
is a 422 ``duplicate``, as ActiveCampaign answers, so a sink that provisions twice is caught.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.activecampaign.sandbox_contacts import Handler, guarded
from connectors.activecampaign.sandbox_http import (
    API_ROOT,
    AcSandbox,
    answer,
    not_found,
    query_int,
    read_json,
    unprocessable,
)
from connectors.activecampaign.sandbox_store import FIELD_TYPES, AcField, AcFieldOption, AcFieldRel, AcList

__all__ = ["schema_routes"]

OPTION_TYPES = frozenset({"dropdown", "listbox", "radio", "checkbox"})


def _page(request: Request, default_limit: int) -> tuple[int, int]:
    limit = min(max(query_int(request, "limit", default_limit) or default_limit, 1), 100)
    return limit, max(query_int(request, "offset", 0) or 0, 0)


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def schema_routes(sb: AcSandbox) -> list[Route]:
    account = sb.account

    async def list_lists(request: Request) -> Response:
        limit, offset = _page(request, 20)
        name = request.query_params.get("filters[name]")
        with account.lock:
            chosen = sorted((x for x in account.lists.values() if name is None or x.name == name), key=lambda x: x.id)
            render = sb.renderer(request)
            rows = [render.list_row(x) for x in chosen[offset: offset + limit]]
        return answer({"lists": rows, "meta": {"total": str(len(chosen))}})

    async def create_list(request: Request) -> Response:
        body = (await read_json(request)).get("list") or {}
        for name in ("name", "stringid", "sender_url", "sender_reminder"):
            if not isinstance(body.get(name), str) or (name in ("name", "stringid") and not body[name].strip()):
                return unprocessable(f"List {name} is required", name, "field_missing")
        with account.lock:
            if any(x.stringid.lower() == body["stringid"].strip().lower() for x in account.lists.values()):
                return unprocessable("A list with this stringid already exists", "stringid", "duplicate")
            item = AcList(account.new_id(), body["name"].strip(), body["stringid"].strip(), body["sender_url"],
                          body["sender_reminder"], account.now())
            account.lists[item.id] = item
            return answer({"list": sb.renderer(request).list_created(item)})

    async def get_list(request: Request) -> Response:
        key = _int_or_none(request.path_params["id"])
        with account.lock:
            item = account.lists.get(key)  # type: ignore[arg-type]
            if item is None:
                return not_found("List", request.path_params["id"])
            return answer({"list": sb.renderer(request).list_row(item)})

    async def list_tags(request: Request) -> Response:
        limit, offset = _page(request, 20)
        search = (request.query_params.get("search") or "").lower()
        with account.lock:
            chosen = sorted((t for t in account.tags.values() if search in t.tag.lower()), key=lambda t: t.id)
            render = sb.renderer(request)
            rows = [render.tag_row(t) for t in chosen[offset: offset + limit]]
        return answer({"tags": rows, "meta": {"total": str(len(chosen))}})

    async def create_tag(request: Request) -> Response:
        body = (await read_json(request)).get("tag") or {}
        name = body.get("tag")
        if not isinstance(name, str) or not name.strip():
            return unprocessable("Tag name is required", "tag", "field_missing")
        with account.lock:
            if account.tag_by_name(name) is not None:
                return unprocessable("Duplicate entry: a tag with this name exists", "tag", "duplicate")
            tag = account.add_tag(name, tag_type=str(body.get("tagType") or "contact"),
                                  description=str(body.get("description") or ""))
            return answer({"tag": sb.renderer(request).tag_created(tag)}, 201)

    def fields_body(request: Request, chosen: list[AcField]) -> dict[str, object]:
        render = sb.renderer(request)
        return {
            "fieldOptions": [render.field_option(o) for f in chosen for o in account.options_of(f.id)],
            "fieldRels": [render.field_rel(r) for f in chosen for r in account.rels_of(f.id)],
            "fields": [render.field_row(f, account.options_of(f.id), account.rels_of(f.id)) for f in chosen],
        }

    async def list_fields(request: Request) -> Response:
        limit, offset = _page(request, 100)
        with account.lock:
            chosen = sorted(account.fields.values(), key=lambda f: f.id)
            body = fields_body(request, chosen[offset: offset + limit])
        return answer({**body, "meta": {"total": str(len(chosen))}})

    async def create_field(request: Request) -> Response:
        body = (await read_json(request)).get("field") or {}
        title, kind = body.get("title"), body.get("type")
        if not isinstance(title, str) or not title.strip():
            return unprocessable("Field title is required", "title", "field_missing")
        if kind not in FIELD_TYPES:
            return unprocessable(f"Field type must be one of {', '.join(sorted(FIELD_TYPES))}", "type", "invalid")
        with account.lock:
            if any(f.title.lower() == title.strip().lower() for f in account.fields.values()):
                return answer({"errors": [{"title": "There is already a field with this title",
                                           "detail": f"There is already a field named '{title}' -- choose another name",
                                           "code": "duplicate"}]}, 422)
            perstag = str(body.get("perstag") or "") or "".join(ch if ch.isalnum() else "_" for ch in title.upper())
            item = AcField(account.new_id(), title.strip(), kind, perstag, str(body.get("descript") or ""),
                           int(body.get("ordernum") or len(account.fields) + 1), account.now())
            account.fields[item.id] = item
            # As the document's 201 example: the created field in a fields listing.
            return answer({**fields_body(request, [item]), "meta": {"total": "1"}}, 201)

    async def create_options(request: Request) -> Response:
        body = await read_json(request)
        # ActiveCampaign's reference takes {"fieldOptions": [...]}; the document shows one bare option.
        raw = body.get("fieldOptions", [body] if "field" in body else None)
        if not isinstance(raw, list) or not raw:
            return answer({"errors": "fieldOptions must be a non-empty array"}, 422)
        with account.lock:
            created = []
            for item in raw:
                field_id = _int_or_none(item.get("field")) if isinstance(item, dict) else None
                target = account.fields.get(field_id)  # type: ignore[arg-type]
                if target is None or target.type not in OPTION_TYPES or not isinstance(item.get("value"), str):
                    return answer({"errors": f"invalid field option {item!r}"}, 422)
                order = int(item.get("orderid") or len(account.options_of(target.id)) + 1)
                label = str(item.get("label") or item["value"])
                option = AcFieldOption(account.new_id(), target.id, item["value"], label, order, account.now())
                account.field_options[option.id] = option
                created.append(option)
            render = sb.renderer(request)
            return answer({"fieldOptions": [render.field_option(o) for o in created]}, 201)

    async def create_rel(request: Request) -> Response:
        body = (await read_json(request)).get("fieldRel") or {}
        field_id, relid = _int_or_none(body.get("field")), _int_or_none(body.get("relid"))
        with account.lock:
            if field_id not in account.fields:
                return not_found("Field", body.get("field"))
            if relid is None or (relid != 0 and relid not in account.lists):
                return not_found("List", body.get("relid"))
            rel = AcFieldRel(account.new_id(), field_id, relid, account.now())  # type: ignore[arg-type]
            account.field_rels[rel.id] = rel
            return answer({"fieldRel": sb.renderer(request).field_rel(rel)}, 201)

    table: list[tuple[str, Handler, str]] = [
        ("/lists", list_lists, "GET"),
        ("/lists", create_list, "POST"),
        ("/lists/{id}", get_list, "GET"),
        ("/tags", list_tags, "GET"),
        ("/tags", create_tag, "POST"),
        ("/fields", list_fields, "GET"),
        ("/fields", create_field, "POST"),
        ("/fieldOption/bulk", create_options, "POST"),
        ("/fieldRels", create_rel, "POST"),
    ]
    return [Route(API_ROOT + path, guarded(handler), methods=[method]) for path, handler, method in table]

