"""The ActiveCampaign sandbox: one account's API v3 (``/api/3``), as its reference documents it.

    sandbox = create_sandbox(clock=ManualClock())
    async with sandbox.client(headers={"Api-Token": SANDBOX_TOKEN}) as client:
        await client.get("/api/3/contacts", params={"email": "ada@example.com"})
    account_of(sandbox).resubscriptions        # every 2 -> 1 list status move, for consent tests

Routes: contacts (list and filter, get, create, update, delete, ``contact/sync``), ``contactLists``,
``contactTags`` (and per contact), ``fieldValues`` (and per contact), ``lists``, ``tags``,
``fields``, ``fieldOption/bulk``, ``fieldRels``, ``import/bulk_import`` and ``import/info``
(modules ``sandbox_*``). Every request needs the ``Api-Token`` header (403 otherwise).

Limits, on the sandbox clock: 5 requests a second for the account (429 with ``Retry-After``
beyond), and for ``import/bulk_import`` 100 multi-contact and 20 single-contact requests a
minute (429 with the importer's "Up to 100 imports may be requested per minute" body). Imports
complete asynchronously, ``import_seconds`` after they were queued. The account's email
exclusion list is ``exclusions``. Faults come from the shared :class:`FaultPlan`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connector.clock import Clock, SystemClock
from connector.sandbox.app import SandboxApp
from connector.sandbox.faults import FaultPlan, FaultResponses
from connector.sandbox.host import RequestRateLimit
from connector.sandbox.state import load_state
from connectors.activecampaign.sandbox_contacts import contact_routes, guarded
from connectors.activecampaign.sandbox_http import API_ROOT, AcSandbox, answer, throttled
from connectors.activecampaign.sandbox_imports import Importer, ImportRefused
from connectors.activecampaign.sandbox_schema import schema_routes
from connectors.activecampaign.sandbox_store import AcAccount, restore_account

__all__ = ["SANDBOX_TOKEN", "account_of", "create_sandbox", "importer_of"]

SANDBOX_TOKEN = "ac-sandbox-token"  # noqa: S105 - the sandbox's public, documented credential
_FORBIDDEN = {"message": "You are not authorized to access this resource"}
_BULK_LIMITED = ("Up to {n} imports may be requested per minute.Please batch contacts into larger requests, "
                 "or retry this request in a minute.")


def _import_routes(sb: AcSandbox) -> list[Route]:
    async def bulk_import(request: Request) -> Response:
        body = await request.body()
        limit, per_minute = _bulk_limit_for(sb, body)
        if limit is not None:
            wait = limit.admit()
            if wait is not None:
                message = {"success": 0, "message": "Rate limit exceeded.",
                           "failureReasons": [_BULK_LIMITED.format(n=per_minute)]}
                return answer(message, 429, headers={"Retry-After": str(RequestRateLimit.retry_after(wait))})
        try:
            with sb.account.lock:
                job = sb.importer.submit(body)
        except ImportRefused as refused:
            return answer(refused.body, 400)
        return answer({"Success": 1, "queued_contacts": len(job.contacts), "batchId": job.batch_id,
                       "message": "Contact import queued"})

    async def import_info(request: Request) -> Response:
        job = sb.importer.jobs.get(request.query_params.get("batchId", ""))
        if job is None:
            return answer({"success": 0, "message": "No import found for the given batchId"}, 400)
        return answer({"status": job.status, "success": list(job.success), "failure": list(job.failure)})

    return [Route(f"{API_ROOT}/import/bulk_import", guarded(bulk_import), methods=["POST"]),
            Route(f"{API_ROOT}/import/info", guarded(import_info), methods=["GET"])]


def _bulk_limit_for(sb: AcSandbox, body: bytes) -> tuple[RequestRateLimit | None, int]:
    """The bulk limit a request falls under: single-contact (20/min) or multi-contact (100/min)."""
    try:
        contacts = json.loads(body).get("contacts")
        single = isinstance(contacts, list) and len(contacts) == 1
    except (ValueError, AttributeError):
        single = False
    limit = sb.bulk_single_limit if single else sb.bulk_multi_limit
    return limit, (limit.limit if limit is not None else 0)


def _gate(sb: AcSandbox, token: str) -> Any:
    """Api-Token authentication, the account's request rate, then any imports that came due."""

    def check(request: Request) -> Response | None:
        if not request.url.path.startswith(API_ROOT + "/"):
            return None
        given = request.headers.get("api-token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return answer(_FORBIDDEN, 403)
        if sb.api_limit is not None:
            wait = sb.api_limit.admit()
            if wait is not None:
                return throttled(RequestRateLimit.retry_after(wait))
        sb.importer.run_due()
        return None

    return check


def _server_error(status: int) -> Response:
    return answer({"message": "Internal Server Error" if status == 500 else "Service Unavailable"}, status)


def _describe(token: str) -> Any:
    def lines(base_url: str) -> list[str]:
        return [
            "ActiveCampaign sandbox: API v3, 5 requests/s, bulk import 100/min (multi) and 20/min (single)",
            f"  endpoint  {base_url}{API_ROOT}",
            f"  token     header Api-Token: {token}",
            f"  config    url = \"{base_url}\", api_key = \"{token}\"",
            f"  try       curl -s -H 'Api-Token: {token}' '{base_url}{API_ROOT}/contacts?limit=2'",
            "  stop      Ctrl-C",
        ]

    return lines


def create_sandbox(
    *,
    clock: Clock | None = None,
    faults: FaultPlan | None = None,
    state_file: Path | None = None,
    api_token: str = SANDBOX_TOKEN,
    rate_limits: bool = True,
    requests_per_second: int = 5,
    bulk_per_minute: tuple[int, int] = (100, 20),
    import_seconds: tuple[float, float] = (1.0, 0.01),
    exclusions: Iterable[str] = (),
    timezone: str = "America/Chicago",
    base_url: str = "https://sandbox.api-us1.com",
) -> SandboxApp:
    """An ActiveCampaign API v3 sandbox for one account.

    Args:
        state_file: where the account is loaded from (if it exists) and saved to.
        api_token: the only token the account accepts.
        rate_limits: enforce ``requests_per_second`` and ``bulk_per_minute`` (multi, single).
        import_seconds: ``(base, per_contact)``: an import of n contacts completes
            ``base + n * per_contact`` seconds after it was queued, on ``clock``.
        exclusions: emails on the account's exclusion list (imports skip them).
        timezone: the account's time zone (timestamps are rendered in it).
        base_url: the account's address for in-process clients.

    Returns:
        The sandbox; :func:`account_of` and :func:`importer_of` reach its state.
    """
    clock = clock or SystemClock()
    saved = load_state(state_file)
    if saved is not None and saved.get("platform") not in (None, "activecampaign"):
        raise ValueError(f"{state_file} holds a {saved.get('platform')} sandbox state, not an ActiveCampaign one")
    account = restore_account((saved or {}).get("account"), clock)
    account.exclusions |= {e.strip().lower() for e in exclusions}
    importer = Importer(account, base_seconds=import_seconds[0], seconds_per_contact=import_seconds[1])
    importer.restore((saved or {}).get("imports", []))
    limits = (RequestRateLimit(requests_per_second, 1.0, clock), RequestRateLimit(bulk_per_minute[0], 60.0, clock),
              RequestRateLimit(bulk_per_minute[1], 60.0, clock)) if rate_limits else (None, None, None)
    sb = AcSandbox(account, importer, ZoneInfo(timezone), *limits)
    sandbox = SandboxApp(
        "activecampaign",
        [*contact_routes(sb), *schema_routes(sb), *_import_routes(sb)],
        authenticate=_gate(sb, api_token),
        faults=faults,
        clock=clock,
        dump_state=lambda: _dump(sb),
        state_file=state_file,
        fault_responses=FaultResponses(throttled=throttled, server_error=_server_error),
        base_url=base_url,
        describe=_describe(api_token),
    )
    sandbox.extras.update(account=account, importer=importer, limits=sb)
    return sandbox


def _dump(sb: AcSandbox) -> dict[str, Any]:
    with sb.account.lock:
        return {"account": sb.account.dump(), "imports": sb.importer.dump()}


def account_of(sandbox: SandboxApp) -> AcAccount:
    """The account behind an ActiveCampaign sandbox (tests read and change it)."""
    return sandbox.part("account", AcAccount)


def importer_of(sandbox: SandboxApp) -> Importer:
    """The bulk importer of an ActiveCampaign sandbox (its jobs, its timing)."""
    return sandbox.part("importer", Importer)
