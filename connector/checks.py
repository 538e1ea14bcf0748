"""``connector check``: the configuration, and each shop and ESP account answering with its credentials.

Each account is opened through the platform registry and asked its own ``check()`` (a cheap
authenticated read, plus platform specifics such as Shopify's access scopes). A failure is reported
with the fix; secrets never appear (errors are redacted by the HTTP layer).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from pydantic import BaseModel, ConfigDict

from connector.accounts import open_account
from connector.clock import SystemClock
from connector.config import Settings
from connector.errors import AuthError, ConfigError, ConnectorError, TransientError
from connector.segments.definitions import load_definitions

__all__ = ["CheckResult", "run_checks"]


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    ok: bool
    detail: str = ""
    fix: str = ""


async def run_checks(settings: Settings,
                     transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> list[CheckResult]:
    """Every check, in order: config, segments file, then each account."""
    results = [CheckResult(name="config", ok=True, detail=f"{len(settings.shops)} shops, {len(settings.esps)} ESP "
                                                          f"accounts, {len(settings.pipelines)} pipelines")]
    try:
        definitions = load_definitions(settings.segments_file)
        results.append(CheckResult(name="segments", ok=True,
                                   detail=f"{settings.segments_file}: {len(definitions.segments)} segments"))
    except ConfigError as exc:
        results.append(CheckResult(name="segments", ok=False, fix=str(exc)))
    accounts = {**{f"shop {n}": (n, s) for n, s in settings.shops.items()},
                **{f"esp {n}": (n, s) for n, s in settings.esps.items()}}
    for label, (name, account) in accounts.items():
        results.append(await _check_account(label, name, account, (transports or {}).get(name)))
    return results


async def _check_account(label: str, name: str, account: object,
                         transport: httpx.AsyncBaseTransport | None) -> CheckResult:
    try:
        thing = open_account(name, account, clock=SystemClock(), transport=transport)  # type: ignore[arg-type]
    except ConfigError as exc:
        return CheckResult(name=label, ok=False, fix=str(exc))
    try:
        check = getattr(thing, "check", None)
        if check is None:
            return CheckResult(name=label, ok=False, fix="this platform has no check in this version")
        return CheckResult(name=label, ok=True, detail=await check())
    except AuthError as exc:
        return CheckResult(name=label, ok=False, fix=f"credentials refused ({exc}); create new ones and put them "
                                                     "in the config (or the environment)")
    except TransientError as exc:
        return CheckResult(name=label, ok=False, fix=f"not reachable ({exc}); check the URL and the network")
    except ConnectorError as exc:
        return CheckResult(name=label, ok=False, fix=str(exc))
    finally:
        await thing.aclose()
