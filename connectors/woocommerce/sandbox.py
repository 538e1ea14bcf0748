"""The WooCommerce sandbox: a WordPress site's REST API ``wc/v3`` over one shop, as WooCommerce 11 serves it.

    sandbox = create_sandbox(customers=500, clock=ManualClock())
    async with sandbox.client() as client:
        await client.get("/wp-json/wc/v3/orders", params={"per_page": 100},
                         auth=(SANDBOX_KEY, SANDBOX_SECRET))
    sandbox.shop.update("orders", 7, clock.now(), status="completed")   # date_modified moves

Routes: ``GET /wp-json/wc/v3/customers``, ``/customers/{id}``, ``/orders``, ``/orders/{id}`` and a
small ``GET /wp-json/`` index; anything else under ``/wp-json`` is WordPress's ``rest_no_route``.
Shapes, headers, parameters and errors follow responses captured from WooCommerce 11.0.1 with
HPOS (see the modules ``sandbox_*``). The host around it can be slow (``latency_seconds``),
rate-limit like a WAF (``rate_limit``), drop the ``Authorization`` header
(``strip_authorization``) and fail (``faults``).

In-process clients talk HTTPS (``https://shop.test``), so keys work as Basic auth or query
parameters. Served on 127.0.0.1 the site is plain HTTP and, like WooCommerce, accepts only OAuth
1.0a signatures, unless ``https=True`` makes it behave as if TLS ended at a proxy in front.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from connector.clock import Clock, SystemClock
from connector.sandbox.app import SandboxApp
from connector.sandbox.faults import FaultPlan, FaultResponses
from connector.sandbox.host import Delayed, RequestRateLimit
from connector.sandbox.restore import restore_shop
from connector.sandbox.shop import ShopState
from connector.sandbox.state import load_state
from connectors.woocommerce.sandbox_auth import WooCommerceAuth, query_of
from connectors.woocommerce.sandbox_ids import customer_id, order_id
from connectors.woocommerce.sandbox_index import WooCommerceIndex
from connectors.woocommerce.sandbox_routes import API_ROOT, routes
from connectors.woocommerce.sandbox_wp import site_root, wp_json, wp_response

__all__ = ["SANDBOX_KEY", "SANDBOX_SECRET", "create_sandbox", "customer_id", "index_of", "order_id"]

SANDBOX_KEY = "ck_sandbox_key"  # noqa: S105 - the sandbox's public, documented credential
SANDBOX_SECRET = "cs_sandbox_secret"  # noqa: S105 - the sandbox's public, documented credential
_KEYED_PREFIXES = ("/wp-json/wc/", "/wp-json/wc-")  # the namespaces WooCommerce's API keys authenticate
_CRITICAL = ("<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/"
             "documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>")
_GATEWAY_PAGES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 429: "429 Too Many Requests"}


def _proxy_page(status: int, headers: dict[str, str] | None = None) -> Response:
    """An error page from the web server in front of WordPress (nginx), not WordPress JSON."""
    title = _GATEWAY_PAGES.get(status, f"{status} Error")
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n" \
           "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    return HTMLResponse(body, status_code=status, headers=headers)


def _throttled(retry_after: int) -> Response:
    return _proxy_page(429, {"Retry-After": str(retry_after)})


def _server_error(status: int) -> Response:
    if status == 500:  # PHP died: WordPress's fatal error handler answers REST requests in JSON
        body = {"code": "internal_server_error", "message": _CRITICAL, "data": {"status": 500}, "additional_errors": []}
        return Response(wp_json(body), status_code=500, media_type="application/json; charset=UTF-8")
    return _proxy_page(status)


def _gate(auth: WooCommerceAuth, limit: RequestRateLimit | None) -> Any:
    """The host's rate limit, then WooCommerce's authentication for its own namespaces."""

    def check(request: Request) -> Response | None:
        if limit is not None:
            wait = limit.admit()
            if wait is not None:
                return _throttled(RequestRateLimit.retry_after(wait))
        if not request.url.path.startswith(_KEYED_PREFIXES):
            request.state.wc_user = False
            return None
        outcome = auth.check(request, query_of(request))
        request.state.wc_user = outcome.user
        if outcome.error is None:
            return None
        code, message = outcome.error
        return wp_response({"code": code, "message": message, "data": {"status": 401}}, root=site_root(request),
                           status=401, authenticated=False)

    return check


def _describe(shop: ShopState, key: str, secret: str, https: bool | None) -> Any:
    def lines(base_url: str) -> list[str]:
        plain = base_url.startswith("http://") and https is not True
        endpoint = f"{base_url}{API_ROOT}"
        out = [
            f"WooCommerce sandbox: shop {shop.name!r}, {shop.count('customers')} customers, "
            f"{shop.count('orders')} orders (WooCommerce 11.0.1, REST API wc/v3, HPOS)",
            f"  endpoint  {endpoint}/customers, {endpoint}/orders",
            f"  keys      consumer_key {key}, consumer_secret {secret}",
            f"  config    url = \"{base_url}\", consumer_key = \"{key}\", consumer_secret = \"{secret}\"",
        ]
        if plain:
            sign = (f"from oauthlib.oauth1 import Client; print(Client('{key}', client_secret='{secret}', "
                    f"signature_type='QUERY').sign('{endpoint}/orders?per_page=2')[0])")
            out += [
                "  auth      plain HTTP: like WooCommerce, only OAuth 1.0a signatures (HMAC-SHA1/-SHA256, in the",
                "            query string) are accepted; Basic auth and ?consumer_key= are ignored (401).",
                "            The connector signs by itself (auth = \"auto\" or \"oauth1\"); curl needs a signed URL:",
                f"  try       curl -s \"$(python -c \"{sign}\")\"",
            ]
        else:
            out.append(f"  try       curl -s -u {key}:{secret} '{endpoint}/orders?per_page=2'")
        out.append("  stop      Ctrl-C")
        return out

    return lines


def create_sandbox(
    *,
    shop: ShopState | None = None,
    customers: int = 1000,
    seed: int = 1,
    consumer_key: str = SANDBOX_KEY,
    consumer_secret: str = SANDBOX_SECRET,
    faults: FaultPlan | None = None,
    clock: Clock | None = None,
    state_file: Path | None = None,
    timezone: str = "Europe/Berlin",
    https: bool | None = None,
    strip_authorization: bool = False,
    latency_seconds: float = 0.0,
    rate_limit: tuple[int, float] | None = None,
    base_url: str = "https://shop.test",
) -> SandboxApp:
    """A WooCommerce REST API (``wc/v3``) sandbox.

    Args:
        shop: the shop's data; None generates one (``customers``, ``seed``, 5 orders a customer on
            average) or loads it from ``state_file``.
        consumer_key / consumer_secret: the only REST API key (read/write) the site knows.
        timezone: the site's time zone: ``date_created`` and friends, and naive date parameters
            unless ``dates_are_gmt``.
        https: whether WordPress sees HTTPS; None: when the request's scheme is https.
        strip_authorization: the host drops the ``Authorization`` header (Basic auth never arrives).
        latency_seconds: every answer waits this long on the clock.
        rate_limit: ``(n, window_seconds)``: past n requests in a window the host answers 429.
        base_url: the site's address for in-process clients.

    Returns:
        The sandbox. ``sandbox.shop`` is the shop: change it (``update``/``add``, at the clock's
        now) and the next request sees the change.
    """
    clock = clock or SystemClock()
    saved = load_state(state_file)
    shop = shop if shop is not None else restore_shop(saved, customers=customers, seed=seed)
    index = WooCommerceIndex(shop)
    auth = WooCommerceAuth(consumer_key, consumer_secret, clock, https=https, strip_authorization=strip_authorization)
    limit = RequestRateLimit(rate_limit[0], rate_limit[1], clock) if rate_limit else None
    sandbox = SandboxApp(
        "woocommerce",
        routes(shop, index, ZoneInfo(timezone)),
        authenticate=_gate(auth, limit),
        faults=faults,
        clock=clock,
        dump_state=lambda: {"shop": dict(shop.dump())},
        state_file=state_file,
        fault_responses=FaultResponses(throttled=_throttled, server_error=_server_error),
        base_url=base_url,
        describe=_describe(shop, consumer_key, consumer_secret, https),
        shop=shop,
    )
    if latency_seconds > 0:
        sandbox.asgi = Delayed(sandbox.asgi, clock, latency_seconds)
    sandbox.extras.update(index=index, auth=auth, rate_limit=limit)
    return sandbox


def index_of(sandbox: SandboxApp) -> WooCommerceIndex:
    """The indexes behind a WooCommerce sandbox (for benches that want to warm them up)."""
    return sandbox.part("index", WooCommerceIndex)
