"""The query root: the three record connections, single records, counts, the shop and the app."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from graphql import GraphQLError

from connector.sandbox.shop import Kind, OrderBy
from connectors.shopify.sandbox_context import REQUIRED_SCOPES, Context, Resolver, ShopIdentity
from connectors.shopify.sandbox_errors import access_denied
from connectors.shopify.sandbox_paging import CursorError, Window, connection, count_matching, page_shop
from connectors.shopify.sandbox_schema import admin_schema, gid, iso, parse_gid
from connectors.shopify.sandbox_search import SearchFilter, parse_search, search_fields

__all__ = ["KIND_OF_FIELD", "RESOLVERS", "SANDBOX_UNSUPPORTED", "SORT_KEYS", "sandbox_unsupported"]

SANDBOX_UNSUPPORTED = "SANDBOX_UNSUPPORTED"
KIND_OF_FIELD: Mapping[str, Kind] = {"customers": "customers", "orders": "orders", "abandonedCheckouts": "carts"}
_COUNT_FIELDS: Mapping[str, str] = {"customersCount": "customers", "ordersCount": "orders",
                                    "abandonedCheckoutsCount": "abandonedCheckouts"}
# The sort keys the sandbox can serve from ShopState's orderings. PROCESSED_AT (the orders default)
# is served in creation order: generated orders are processed when they are created.
SORT_KEYS: Mapping[Kind, Mapping[str, OrderBy]] = {
    "customers": {"ID": "key", "UPDATED_AT": "updated_at", "CREATED_AT": "created_at"},
    "orders": {"ID": "key", "ORDER_NUMBER": "key", "UPDATED_AT": "updated_at", "CREATED_AT": "created_at",
               "PROCESSED_AT": "created_at"},
    "carts": {"ID": "key", "CHECKOUT_ID": "key", "CREATED_AT": "created_at"},
}
_TYPE_KINDS: Mapping[str, Kind] = {"Customer": "customers", "Order": "orders", "AbandonedCheckout": "carts"}
# Shopify caps these two counts (the schema says so); customersCount has no cap.
_COUNT_CAP = 10_000


def sandbox_unsupported(message: str) -> GraphQLError:
    """A loud refusal of something valid on Shopify that the sandbox does not model."""
    return GraphQLError(f"sandbox: {message}", extensions={"code": SANDBOX_UNSUPPORTED})


@cache
def _listed(field_name: str) -> frozenset[str]:
    query_type = admin_schema().query_type
    assert query_type is not None  # noqa: S101 - the Admin schema has a query root
    return search_fields(query_type.fields[field_name])


def _filter(ctx: Context, field_name: str, kind: Kind, query: str | None) -> SearchFilter:
    filt = parse_search(query, listed=_listed(field_name), kind=kind, now=ctx.clock.now())
    if filt.warnings:
        ctx.search.append({"path": [field_name], "query": query, "warnings": filt.warnings})
    return filt


def _connection(field_name: str) -> Resolver:
    kind = KIND_OF_FIELD[field_name]

    def resolve(_root: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        sort_key = args.get("sortKey") or "ID"
        order_by = SORT_KEYS[kind].get(sort_key)
        if order_by is None:
            raise sandbox_unsupported(f"sortKey {sort_key} of {field_name} is not modelled; use one of "
                                      f"{', '.join(SORT_KEYS[kind])}")
        filt = _filter(ctx, field_name, kind, args.get("query"))
        keep = ctx.order_visible if kind == "orders" else None
        bulk = ctx.bulk_page
        window = Window(after=bulk.after, reverse=bool(args.get("reverse"))) if bulk else Window.from_args(args)
        try:
            page = page_shop(ctx.shop, kind, order_by=order_by, window=window, filt=filt, keep=keep,
                             size=bulk.size if bulk else None)
        except CursorError as exc:
            raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from exc
        if bulk:
            bulk.took(page)
        return connection(page)

    return resolve


def _count(field_name: str) -> Resolver:
    connection_field = _COUNT_FIELDS[field_name]
    kind = KIND_OF_FIELD[connection_field]

    def resolve(_root: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        filt = _filter(ctx, connection_field, kind, args.get("query"))
        cap = None if kind == "customers" else min(args.get("limit") or _COUNT_CAP, _COUNT_CAP)
        keep = ctx.order_visible if kind == "orders" else None
        found = count_matching(ctx.shop, kind, filt, keep, cap)
        if cap is not None and found > cap:
            return {"count": cap, "precision": "AT_LEAST"}
        return {"count": found, "precision": "EXACT"}

    return resolve


def _lookup(value: Any, type_name: str | None) -> tuple[str, int] | None:
    parsed = parse_gid(value)
    if parsed is None:
        raise GraphQLError(f"Invalid global id '{value}'",
                           extensions={"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"})
    return parsed if type_name is None or parsed[0] == type_name else None


# The root field whose scopes also guard reading a record of the type by id (``node``, ``nodes``).
_GUARD: Mapping[str, str] = {"Customer": "customer", "Order": "order", "AbandonedCheckout": "abandonedCheckouts"}


def _record(ctx: Context, type_name: str, number: int) -> Any:
    if type_name == "BulkOperation":
        return ctx.bulk.get(number)
    kind = _TYPE_KINDS.get(type_name)
    if kind is None:
        return None
    needed, wording = REQUIRED_SCOPES[("QueryRoot", _GUARD[type_name])]
    if not ctx.has_scopes(*needed):
        raise access_denied("node", wording)
    record = ctx.shop.get(kind, number)
    if kind == "orders" and record is not None and not ctx.order_visible(record):
        return None
    return record


def _single(type_name: str) -> Resolver:
    def resolve(_root: Any, ctx: Context, args: dict[str, Any]) -> Any:
        found = _lookup(args["id"], type_name)
        return _record(ctx, type_name, found[1]) if found else None

    return resolve


def _node(_root: Any, ctx: Context, args: dict[str, Any]) -> Any:
    found = _lookup(args["id"], None)
    return _record(ctx, *found) if found else None


def _nodes(_root: Any, ctx: Context, args: dict[str, Any]) -> list[Any]:
    return [_node(_root, ctx, {"id": value}) for value in args["ids"]]


def _app_installation(_root: Any, ctx: Context, _args: Any) -> dict[str, Any]:
    # Only real access scopes are listed: manage_abandoned_checkouts is a staff permission that
    # the sandbox's scope set also carries, but Shopify never reports it as an app scope.
    handles = sorted(s for s in ctx.scopes if s.startswith(("read_", "write_", "unauthenticated_")))
    return {
        "id": gid("AppInstallation", ctx.identity.shop_id),
        "accessScopes": [{"handle": h, "description": h.replace("_", " ").capitalize()} for h in handles],
        "launchUrl": f"https://{ctx.identity.domain}/admin/apps/connector-sandbox",
        "app": {"id": gid("App", 1), "title": "connector (sandbox)", "handle": "connector-sandbox",
                "apiKey": "sandbox", "embedded": False},
    }


def _plan(identity: ShopIdentity) -> dict[str, Any]:
    names = {"standard": "Shopify", "advanced": "Advanced Shopify", "plus": "Shopify Plus",
             "enterprise": "Commerce Components"}
    return {"displayName": names.get(identity.plan, "Shopify"), "partnerDevelopment": False,
            "shopifyPlus": identity.plan in ("plus", "enterprise")}


_SHOP: dict[str, Resolver] = {
    "id": lambda s, ctx, a: gid("Shop", ctx.identity.shop_id),
    "name": lambda s, ctx, a: ctx.identity.name,
    "email": lambda s, ctx, a: f"owner@{ctx.identity.domain}",
    "contactEmail": lambda s, ctx, a: f"owner@{ctx.identity.domain}",
    "shopOwnerName": lambda s, ctx, a: "Sandbox Owner",
    "myshopifyDomain": lambda s, ctx, a: ctx.identity.domain,
    "url": lambda s, ctx, a: f"https://{ctx.identity.domain}",
    "primaryDomain": lambda s, ctx, a: {"id": gid("Domain", ctx.identity.shop_id), "host": ctx.identity.domain,
                                        "url": f"https://{ctx.identity.domain}", "sslEnabled": True},
    "currencyCode": lambda s, ctx, a: ctx.identity.currency,
    "enabledPresentmentCurrencies": lambda s, ctx, a: [ctx.identity.currency],
    "ianaTimezone": lambda s, ctx, a: "Etc/UTC",
    "timezoneAbbreviation": lambda s, ctx, a: "UTC",
    "timezoneOffset": lambda s, ctx, a: "+0000",
    "timezoneOffsetMinutes": lambda s, ctx, a: 0,
    "createdAt": lambda s, ctx, a: iso(ctx.identity.created_at),
    "plan": lambda s, ctx, a: _plan(ctx.identity),
    "customers": _connection("customers"),
    "orders": _connection("orders"),
}

_QUERY_ROOT: dict[str, Resolver] = {
    **{name: _connection(name) for name in KIND_OF_FIELD},
    **{name: _count(name) for name in _COUNT_FIELDS},
    "customer": _single("Customer"),
    "order": _single("Order"),
    "node": _node,
    "nodes": _nodes,
    "shop": lambda _root, ctx, a: ctx.identity,
    "currentAppInstallation": _app_installation,
    "currentBulkOperation": lambda _root, ctx, a: ctx.bulk.current(a.get("type") or "QUERY"),
}

RESOLVERS: Mapping[str, Mapping[str, Resolver]] = {"QueryRoot": _QUERY_ROOT, "Shop": _SHOP}
