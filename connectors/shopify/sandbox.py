"""The Shopify sandbox: the Admin GraphQL API of one generated shop, on the real 2025-01 schema.

    sandbox = create_sandbox(customers=500, clock=ManualClock())
    async with sandbox.client() as client:
        await client.post("/admin/api/2025-01/graphql.json", json={"query": "{ shop { name } }"},
                          headers={"X-Shopify-Access-Token": SANDBOX_TOKEN})

Routes: ``POST /admin/api/{version}/graphql.json`` (JSON body or ``application/graphql``) and
``GET /bulk/{token}.jsonl`` (bulk results; no token, like Shopify's signed storage URLs).
Every API version in ``api_versions`` is served with the 2025-01 schema.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from connector.clock import Clock, SystemClock
from connector.sandbox.app import SandboxApp
from connector.sandbox.faults import FaultPlan, FaultResponses
from connector.sandbox.restore import restore_shop
from connector.sandbox.shop import ShopState
from connector.sandbox.state import load_state
from connectors.shopify.sandbox_context import ShopIdentity
from connectors.shopify.sandbox_cost import Plan
from connectors.shopify.sandbox_engine import ShopifyEngine
from connectors.shopify.sandbox_schema import SCHEMA_VERSION

__all__ = ["API_VERSIONS", "DEFAULT_SCOPES", "SANDBOX_TOKEN", "create_sandbox", "engine_of"]

SANDBOX_TOKEN = "shpat_sandbox_token"  # noqa: S105 - the sandbox's public, documented credential
DEFAULT_SCOPES = frozenset({"read_customers", "read_orders", "read_all_orders", "read_products",
                            "manage_abandoned_checkouts"})
API_VERSIONS = ("2025-01", "2025-04", "2025-07", "2025-10", "unstable")
AUTH_ERROR = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_BAD_QUERY = {"errors": {"query": "Required parameter missing or invalid"}}


def _authenticate(token: str) -> Any:
    def check(request: Request) -> Response | None:
        if request.url.path.startswith("/bulk/"):
            return None  # a storage URL: whoever holds it may read it
        if request.headers.get("x-shopify-access-token") != token:
            return JSONResponse({"errors": AUTH_ERROR}, status_code=401)
        return None

    return check


def _throttled(retry_after: int) -> Response:
    return JSONResponse(
        {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted "
                   "service."},
        status_code=429, headers={"Retry-After": f"{float(retry_after):.1f}"})


def _server_error(status: int) -> Response:
    if status == 500:
        return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
    title = "502 Bad Gateway" if status == 502 else "503 Service Unavailable"
    return HTMLResponse(f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>",
                        status_code=status)


async def _read_body(request: Request) -> tuple[str, dict[str, Any] | None, str | None] | None:
    """(query, variables, operationName) from a JSON or ``application/graphql`` body, or None."""
    raw = await request.body()
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/graphql":
        return raw.decode("utf-8", "replace"), None, None
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str) or not payload["query"].strip():
        return None
    variables = payload.get("variables")
    operation = payload.get("operationName")
    return (payload["query"], variables if isinstance(variables, dict) else None,
            operation if isinstance(operation, str) else None)


def _routes(engine: ShopifyEngine, versions: Iterable[str]) -> list[Route]:
    served = frozenset(versions)
    request_ids = itertools.count(1)

    async def graphql(request: Request) -> Response:
        version = request.path_params["version"]
        if version not in served:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        parsed = await _read_body(request)
        if parsed is None:
            return JSONResponse(_BAD_QUERY, status_code=400)
        answer = engine.run(*parsed, base_url=str(request.base_url))
        request.state.cost = answer.cost
        headers = {"X-Shopify-API-Version": version, "X-Request-Id": f"sandbox-{next(request_ids):08d}"}
        return JSONResponse(answer.body, headers=headers)

    async def download(request: Request) -> Response:
        job = engine.bulk.by_token(request.path_params["token"])
        status = engine.bulk.status(job) if job else None
        if job is None or status not in ("COMPLETED", "FAILED", "EXPIRED"):
            return PlainTextResponse("NoSuchKey: The specified key does not exist.", status_code=404)
        if status == "EXPIRED":
            return PlainTextResponse("ExpiredToken: The provided token has expired.", status_code=400)
        result = engine.bulk.materialize(job)
        if result is None:
            return PlainTextResponse("NoSuchKey: The specified key does not exist.", status_code=404)
        return StreamingResponse(result.chunks(), media_type="application/jsonl",
                                 headers={"Content-Length": str(result.size)})

    return [
        Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"]),
        Route("/bulk/{token}.jsonl", download, methods=["GET"]),
    ]


def _describe(shop: ShopState, token: str, plan: str) -> Any:
    def lines(base_url: str) -> list[str]:
        endpoint = f"{base_url}/admin/api/{SCHEMA_VERSION}/graphql.json"
        body = json.dumps({"query": "{ customers(first: 2) { nodes { id email } } }"})
        return [
            f"Shopify sandbox: shop {shop.name!r}, {shop.count('customers')} customers, {plan} plan",
            f"  endpoint  {endpoint}",
            f"  token     X-Shopify-Access-Token: {token}",
            f"  config    shop = \"{shop.name}\", access_token = \"{token}\", base_url = \"{base_url}\"",
            f"  try       curl -s -X POST -H 'X-Shopify-Access-Token: {token}' "
            f"-H 'Content-Type: application/json' -d '{body}' {endpoint}",
            "  stop      Ctrl-C",
        ]

    return lines


def create_sandbox(
    *,
    shop: ShopState | None = None,
    customers: int = 1000,
    seed: int = 1,
    plan: Plan = "standard",
    token: str = SANDBOX_TOKEN,
    scopes: frozenset[str] = DEFAULT_SCOPES,
    faults: FaultPlan | None = None,
    clock: Clock | None = None,
    state_file: Path | None = None,
    api_versions: Iterable[str] = API_VERSIONS,
    bulk_startup_seconds: float = 1.0,
    bulk_seconds_per_10k: float = 2.0,
    served: bool = False,
) -> SandboxApp:
    """A Shopify Admin API sandbox.

    Args:
        shop: the shop's data; None generates one (``customers``, ``seed``) or loads it from ``state_file``.
        plan: sets the cost bucket (see :mod:`connectors.shopify.sandbox_cost`).
        token: the only access token accepted.
        scopes: the app's access scopes (plus the staff permission ``manage_abandoned_checkouts``).
        state_file: JSON state (shop changes, bulk operations) loaded when present, written by ``save()``.
        bulk_startup_seconds / bulk_seconds_per_10k: how long bulk jobs stay CREATED, then RUNNING.
        served: the sandbox will be served on a socket (CLI, demo, benches): bulk result files are
            written on a worker thread while the job runs, so polls answer at once, as on Shopify.
            In-process (the default) they are written on first need, which keeps tests deterministic.

    Returns:
        The sandbox; ``sandbox.shop`` is the ShopState, for tests to read and mutate.
    """
    clock = clock or SystemClock()
    saved = load_state(state_file)
    shop = shop if shop is not None else restore_shop(saved, customers=customers, seed=seed)
    identity = ShopIdentity(shop.name, shop.base_currency, plan)
    engine = ShopifyEngine(shop, identity, frozenset(scopes), clock, bulk_startup_seconds=bulk_startup_seconds,
                           bulk_seconds_per_10k=bulk_seconds_per_10k, bulk_in_background=served)
    engine.bulk.load((saved or {}).get("bulk_operations", []))
    sandbox = SandboxApp(
        "shopify",
        _routes(engine, api_versions),
        authenticate=_authenticate(token),
        faults=faults,
        clock=clock,
        dump_state=lambda: {"shop": dict(shop.dump()), "bulk_operations": engine.bulk.dump()},
        state_file=state_file,
        fault_exempt=("/bulk/",),
        fault_responses=FaultResponses(throttled=_throttled, server_error=_server_error),
        base_url=f"https://{shop.name}.myshopify.com",
        describe=_describe(shop, token, plan),
        shop=shop,
    )
    sandbox.extras["engine"] = engine
    return sandbox


def engine_of(sandbox: SandboxApp) -> ShopifyEngine:
    """The engine behind a Shopify sandbox (its cost bucket and bulk jobs), for tests and benches."""
    return sandbox.part("engine", ShopifyEngine)
