"""What every ActiveCampaign sandbox route shares: the context, answers and errors, query parsing.

Error bodies are ActiveCampaign's own (``shared/api-facts.md``, the document's examples):

* 403 ``{"message": "You are not authorized to access this resource"}`` for a missing or wrong token;
* 404 ``{"message": "No Result found for <Thing> with id <id>"}``;
* 422 ``{"errors": [{"title", "detail", "code", "source": {"pointer"}}]}``;
* 429 ``{"message": ...}`` with ``Retry-After`` past the account's 5 requests a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from connector.sandbox.host import RequestRateLimit
from connectors.activecampaign.sandbox_imports import Importer
from connectors.activecampaign.sandbox_render import Renderer
from connectors.activecampaign.sandbox_store import AcAccount

__all__ = [
    "API_ROOT",
    "AcSandbox",
    "BadRequest",
    "answer",
    "not_found",
    "query_int",
    "read_json",
    "throttled",
    "unprocessable",
    "updated_after",
]

API_ROOT = "/api/3"


@dataclass
class AcSandbox:
    """The account behind a sandbox and what its routes need around it."""

    account: AcAccount
    importer: Importer
    tz: tzinfo
    api_limit: RequestRateLimit | None
    bulk_multi_limit: RequestRateLimit | None
    bulk_single_limit: RequestRateLimit | None

    def renderer(self, request: Request) -> Renderer:
        return Renderer(f"{request.url.scheme}://{request.url.netloc}{API_ROOT}", self.tz)


class BadRequest(Exception):  # noqa: N818 - an answer, not an error of ours
    """The request is malformed: answered 400 with ``{"message": ...}``."""


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    media_type="application/json", headers=headers)


def not_found(thing: str, key: object) -> Response:
    return answer({"message": f"No Result found for {thing} with id {key}"}, 404)


def unprocessable(title: str, pointer: str, code: str = "invalid", detail: str = "") -> Response:
    return answer({"errors": [{"title": title, "detail": detail, "code": code,
                               "source": {"pointer": f"/data/attributes/{pointer}"}}]}, 422)


def throttled(retry_after: int) -> Response:
    message = "Too Many Requests: the account allows 5 requests per second."
    return answer({"message": message}, 429, headers={"Retry-After": str(retry_after)})


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object.

    Raises:
        BadRequest: it is not one.
    """
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise BadRequest("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def query_int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid value for '{name}': {raw!r}") from None


def updated_after(raw: str, tz: tzinfo) -> datetime:
    """``filters[updated_after]``: a date (midnight, account time) or a date and time (account time)."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tz)
        parsed = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise BadRequest(f"Invalid date for 'filters[updated_after]': {raw!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
