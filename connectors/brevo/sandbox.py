"""The Brevo sandbox: API v3's contacts, lists, attributes and imports, with Brevo's rate limits.

    sandbox = create_sandbox(clock=ManualClock())
    async with sandbox.client(headers={"api-key": SANDBOX_KEY}) as client:
        await client.post("/v3/contacts/folders", json={"name": "connector"})
    account_of(sandbox).contacts          # the account's data, for tests

Authentication is the ``api-key`` header (401 ``{"code": "unauthorized"}`` otherwise). The
modules ``sandbox_*`` hold the parts: the account and its rules (``sandbox_store``), imports that
complete later on the sandbox clock (``sandbox_imports``), the endpoints (``sandbox_routes``) and
the per-endpoint rate limits with ``x-sib-ratelimit-*`` headers (``sandbox_limits``). Faults come
from the shared :class:`~connector.sandbox.faults.FaultPlan`, worded as Brevo words them.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connector.clock import Clock, SystemClock
from connector.sandbox.app import SandboxApp
from connector.sandbox.faults import FaultPlan, FaultResponses
from connector.sandbox.state import load_state
from connectors.brevo.sandbox_imports import ImportQueue
from connectors.brevo.sandbox_limits import BudgetClass, RateLimited, Window, rate_headers
from connectors.brevo.sandbox_routes import MAX_IMPORT_BYTES, routes
from connectors.brevo.sandbox_store import BrevoAccount

__all__ = ["SANDBOX_KEY", "account_of", "create_sandbox", "imports_of", "limits_of"]

SANDBOX_KEY = "xkeysib-sandbox"  # the sandbox's public, documented credential
GENERAL_TIER = {"contacts_per_second": 10, "contacts_per_hour": 36_000, "other_per_hour": 100}


def _throttled(retry_after: int) -> Response:
    headers = {k.decode(): v.decode() for k, v in rate_headers(10, 0, retry_after)}
    return JSONResponse({"code": "too_many_requests", "message": "The rate limit has been reached."},
                        status_code=429, headers=headers)


def _server_error(status: int) -> Response:
    return JSONResponse({"code": "internal_error", "message": "Internal server error"}, status_code=status)


def _authenticate(key: str) -> Any:
    def check(request: Request) -> Response | None:
        given = request.headers.get("api-key", "")
        if given and hmac.compare_digest(given.encode(), key.encode()):
            return None
        message = "Key not found" if given else "API Key is not enabled"
        return JSONResponse({"code": "unauthorized", "message": message}, status_code=401)

    return check


def _describe(account: BrevoAccount, key: str) -> Any:
    def lines(base_url: str) -> list[str]:
        return [
            f"Brevo sandbox: API v3, {len(account.contacts)} contacts, {len(account.lists)} lists",
            f"  endpoint  {base_url}/v3",
            f"  key       api-key: {key}",
            f"  config    base_url = \"{base_url}/v3\", api_key = \"{key}\"",
            f"  try       curl -s -H 'api-key: {key}' '{base_url}/v3/contacts?limit=2'",
            "  limits    /v3/contacts/...: 10 a second; every other endpoint: 100 an hour (x-sib-ratelimit-*)",
            "  stop      Ctrl-C",
        ]

    return lines


def create_sandbox(
    *,
    clock: Clock | None = None,
    faults: FaultPlan | None = None,
    state_file: Path | None = None,
    api_key: str = SANDBOX_KEY,
    rate_limits: dict[str, int] | None = None,
    import_seconds: tuple[float, float] = (2.0, 0.0002),
    max_import_bytes: int = MAX_IMPORT_BYTES,
    base_url: str = "http://sandbox.test",
    served: bool = False,
) -> SandboxApp:
    """A Brevo API v3 sandbox.

    Args:
        clock: the sandbox's time: rate-limit windows, import completion, ``modifiedAt``.
        faults: 429/5xx/timeouts/drops to inject (Brevo-worded bodies).
        state_file: load the account from here and save it there when a served sandbox stops.
        api_key: the one key the account accepts.
        rate_limits: ``contacts_per_second``, ``contacts_per_hour``, ``other_per_hour``; default the
            General tier. ``{}`` turns rate limiting off.
        import_seconds: an import takes ``base + per_contact * rows`` seconds once it starts.
        max_import_bytes: the ``contacts/import`` body limit (Brevo: 10 MB).
        served: accepted from ``connector sandbox serve`` (nothing differs when served).
    """
    del served
    clock = clock or SystemClock()
    saved = load_state(state_file) or {}
    account = BrevoAccount.load(saved["account"]) if "account" in saved else BrevoAccount()
    imports = ImportQueue(account, clock, seconds_base=import_seconds[0], seconds_per_contact=import_seconds[1])
    if "imports" in saved:
        imports.load(saved["imports"])
    sandbox = SandboxApp(
        "brevo",
        routes(account, imports, clock, max_import_bytes=max_import_bytes),
        authenticate=_authenticate(api_key),
        faults=faults,
        clock=clock,
        dump_state=lambda: {"account": account.dump(), "imports": imports.dump()},
        state_file=state_file,
        fault_responses=FaultResponses(throttled=_throttled, server_error=_server_error),
        base_url=base_url,
        describe=_describe(account, api_key),
    )
    limits = GENERAL_TIER if rate_limits is None else rate_limits
    classes: dict[str, BudgetClass] = {}
    if limits:
        classes = {
            "contacts": BudgetClass("contacts", (Window(limits["contacts_per_second"], 1.0, clock),
                                                 Window(limits["contacts_per_hour"], 3600.0, clock))),
            "other": BudgetClass("other", (Window(limits["other_per_hour"], 3600.0, clock),)),
        }
        pipeline: Any = sandbox.asgi
        pipeline.app = RateLimited(pipeline.app, classes, imports.advance)
    else:
        pipeline = sandbox.asgi
        pipeline.app = _Advancing(pipeline.app, imports)
    sandbox.extras.update(account=account, imports=imports, limits=classes)
    return sandbox


class _Advancing:
    """Without rate limits, still complete due imports before each request."""

    def __init__(self, app: Any, imports: ImportQueue) -> None:
        self.app = app
        self.imports = imports

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.imports.advance()
        await self.app(scope, receive, send)


def account_of(sandbox: SandboxApp) -> BrevoAccount:
    """The account behind a Brevo sandbox (after completing due imports)."""
    imports_of(sandbox).advance()
    return sandbox.part("account", BrevoAccount)


def imports_of(sandbox: SandboxApp) -> ImportQueue:
    """The background processes of a Brevo sandbox."""
    return sandbox.part("imports", ImportQueue)


def limits_of(sandbox: SandboxApp) -> dict[str, BudgetClass]:
    """The rate-limit classes (``contacts``, ``other``) of a Brevo sandbox; empty when off."""
    return sandbox.part("limits", dict)
