"""The WooCommerce sandbox's HTTP handlers: ``/wp-json/wc/v3/customers`` and ``/orders``, lists and items.

Each handler does what WordPress does for a matched route, in its order: validate the parameters
(400 ``rest_invalid_param``, even for an anonymous caller), check permission (401 "cannot list"
or "cannot view" when no key authenticated; an unknown customer is a 404 first), then answer.
Authentication itself ran earlier (:mod:`connectors.woocommerce.sandbox_auth`, through the
sandbox's gate), which left ``request.state.wc_user``. Everything else under ``/wp-json`` is
WordPress's ``rest_no_route``.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from connector.sandbox.records import ShopCustomer, ShopOrder
from connector.sandbox.shop import ShopState
from connectors.woocommerce.sandbox_auth import query_of
from connectors.woocommerce.sandbox_ids import ADMIN_ID, customer_id, customer_key, order_key
from connectors.woocommerce.sandbox_index import ADMIN_KEY, WooCommerceIndex
from connectors.woocommerce.sandbox_params import CUSTOMER_PARAMS, ORDER_PARAMS, Params, ParamSpec, read_params
from connectors.woocommerce.sandbox_query import Selection, select_customers, select_orders
from connectors.woocommerce.sandbox_render import RenderContext, customer_links, render_admin, render_customer
from connectors.woocommerce.sandbox_render_orders import order_links, render_order
from connectors.woocommerce.sandbox_wp import (
    ALLOW_COLLECTION,
    ALLOW_ITEM,
    PHPArray,
    filter_fields,
    page_link,
    php_list,
    site_root,
    wp_error,
    wp_invalid_params,
    wp_response,
)

__all__ = ["API_ROOT", "routes"]

API_ROOT = "/wp-json/wc/v3"
_ITEM_PARAMS = (CUSTOMER_PARAMS[0],)  # a single item takes ``context`` only
_NO_ROUTE = ("rest_no_route", "No route was found matching the URL and request method.")


class _Call:
    """One request as the handlers see it: query, caller, site root, and how to answer."""

    def __init__(self, request: Request, index: WooCommerceIndex | None = None) -> None:
        if index is not None:
            index.sync()  # the shop may have changed since the last request
        self.request = request
        self.query: PHPArray = query_of(request)
        self.user = bool(getattr(request.state, "wc_user", False))
        self.root = site_root(request)

    def params(self, specs: tuple[ParamSpec, ...], allow: str) -> Params | Response:
        read = read_params(self.query, specs)
        if isinstance(read, list):
            return wp_invalid_params(read, root=self.root, authenticated=self.user, allow=allow)
        return read

    def error(self, code: str, message: str, status: int, allow: str | None = None) -> Response:
        return wp_error(code, message, status, root=self.root, authenticated=self.user,
                        allow=allow if self.user else None)

    def fields(self) -> list[str]:
        raw = self.query.get("_fields")
        return [f.strip() for f in php_list(raw) if f.strip()] if raw is not None else []

    def item(self, data: dict[str, Any], links: dict[str, Any]) -> Response:
        fields = self.fields()
        body = {**(filter_fields(data, fields) if fields else data), "_links": links}
        return wp_response(body, root=self.root, authenticated=True, allow=ALLOW_ITEM)

    def collection(self, items: list[dict[str, Any]], selection: Selection, query: PHPArray, path: str) -> Response:
        fields = self.fields()
        if fields:
            items = [filter_fields(item, fields) for item in items]
        links = []
        if selection.page > 1:
            links.append(("prev", page_link(self.root, path, query, min(selection.page - 1, selection.pages))))
        if selection.pages > selection.page:
            links.append(("next", page_link(self.root, path, query, selection.page + 1)))
        return wp_response(items, root=self.root, authenticated=True, allow=ALLOW_COLLECTION,
                           total=(selection.total, selection.pages), links=links)


def routes(shop: ShopState, index: WooCommerceIndex, tz: ZoneInfo) -> list[BaseRoute]:
    """The sandbox's Starlette routes."""

    def context(call: _Call, dp: int = 2) -> RenderContext:
        return RenderContext(call.root, tz, shop.name, dp)

    def customer_body(key: int, ctx: RenderContext) -> tuple[dict[str, Any], dict[str, Any]] | None:
        if key == ADMIN_KEY:
            row = index.user(ADMIN_KEY)
            return (render_admin(row, ctx), customer_links(ADMIN_ID, ctx)) if row else None
        customer = shop.get("customers", key)
        if not isinstance(customer, ShopCustomer):
            return None
        return (render_customer(customer, paying=index.is_paying(key), ctx=ctx),
                customer_links(customer_id(key), ctx))

    async def list_customers(request: Request) -> Response:
        call = _Call(request, index)
        params = call.params(CUSTOMER_PARAMS, ALLOW_COLLECTION)
        if isinstance(params, Response):
            return params
        if not call.user:
            return call.error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        selection = select_customers(index, params.values, params.given)
        ctx = context(call)
        items = []
        for key in selection.keys:
            found = customer_body(key, ctx)
            if found is not None:
                items.append({**found[0], "_links": found[1]})
        return call.collection(items, selection, params.query, f"{API_ROOT}/customers")

    async def get_customer(request: Request) -> Response:
        call = _Call(request, index)
        params = call.params(_ITEM_PARAMS, ALLOW_ITEM)
        if isinstance(params, Response):
            return params
        key = customer_key(request.path_params["id"])
        found = customer_body(key, context(call)) if key >= 0 else None
        if found is None:  # the permission check looks the user up first: a 404 even without a key
            return call.error("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        if not call.user:
            return call.error("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)
        return call.item(*found)

    async def list_orders(request: Request) -> Response:
        call = _Call(request, index)
        params = call.params(ORDER_PARAMS, ALLOW_COLLECTION)
        if isinstance(params, Response):
            return params
        if not call.user:
            return call.error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        values = params.values
        selection = select_orders(shop, index, values, params.given, tz)
        ctx = context(call, values["dp"])
        customers: dict[int, ShopCustomer | None] = {}
        items = []
        for key in selection.keys:
            order = shop.get("orders", key)
            if isinstance(order, ShopOrder):
                items.append({**render_order(order, _customer(shop, customers, order), ctx),
                              "_links": order_links(order, ctx)})
        # WooCommerce writes its reading of status, then dp and context, back into the request.
        query = {**params.query, "status": dict(enumerate(values["status"]))}
        if items:
            query["dp"] = values["dp"]
            query["context"] = query.get("context") or "view"
        return call.collection(items, selection, query, f"{API_ROOT}/orders")

    async def get_order(request: Request) -> Response:
        call = _Call(request, index)
        params = call.params(_ITEM_PARAMS, ALLOW_ITEM)
        if isinstance(params, Response):
            return params
        if not call.user:
            return call.error("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.", 401)
        key = order_key(request.path_params["id"])
        order = shop.get("orders", key) if key is not None else None
        if not isinstance(order, ShopOrder):
            return call.error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404, ALLOW_ITEM)
        dp = _dp(call.query.get("dp"))
        ctx = context(call, dp)
        return call.item(render_order(order, _customer(shop, {}, order), ctx), order_links(order, ctx))

    async def discovery(request: Request) -> Response:
        call = _Call(request)
        body = {"name": shop.name, "description": "", "url": call.root, "home": call.root,
                "gmt_offset": 0, "timezone_string": str(tz), "namespaces": ["wp/v2", "wc/v1", "wc/v2", "wc/v3"],
                "authentication": [], "routes": {f"{API_ROOT}/customers": {}, f"{API_ROOT}/orders": {}}}
        return wp_response(body, root=call.root, authenticated=call.user)

    async def no_route(request: Request) -> Response:
        call = _Call(request)
        return call.error(*_NO_ROUTE, 404)

    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [
        Route("/wp-json", discovery, methods=["GET"]),
        Route("/wp-json/", discovery, methods=["GET"]),
        Route(f"{API_ROOT}/customers", list_customers, methods=["GET"]),
        Route(API_ROOT + "/customers/{id:int}", get_customer, methods=["GET"]),
        Route(f"{API_ROOT}/orders", list_orders, methods=["GET"]),
        Route(API_ROOT + "/orders/{id:int}", get_order, methods=["GET"]),
        Route("/wp-json/{rest:path}", no_route, methods=every),
        Route("/{rest:path}", _site_404, methods=every),
    ]


def _customer(shop: ShopState, seen: dict[int, ShopCustomer | None], order: ShopOrder) -> ShopCustomer | None:
    key = order.customer_key
    if not key:
        return None
    if key not in seen:
        found = shop.get("customers", key)
        seen[key] = found if isinstance(found, ShopCustomer) else None
    return seen[key]


def _dp(raw: Any) -> int:
    try:
        return abs(int(float(raw))) if isinstance(raw, str) else 2
    except ValueError:
        return 2


async def _site_404(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Page not found</title><h1>Not Found</h1>", status_code=404)


