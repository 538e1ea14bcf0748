"""Check requests and responses against a vendor's OpenAPI document (tests only).

The vendors' documents live in ``../shared/specs/`` beside the checkout. They are not valid
enough for strict spec validation (ActiveCampaign's has schema typos, Brevo's has integer
enums), so the document is loaded as-is and only used to validate what we send and receive::

    contract = OpenApiContract.load(SPECS / "brevo/brevo_api_v3_openapi.yml", "http://sandbox.test/v3")
    transport = contract.checking(sandbox.transport())   # every exchange validated
    ...
    assert transport.violations == []

YAML timestamps are read as strings (the documents hold example dates such as ``2017-05-31``
that are not valid datetimes in every example).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.exceptions import SecurityValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"

__all__ = ["SPECS", "ContractTransport", "OpenApiContract"]


class _NoTimestamps(yaml.CSafeLoader):
    pass


_NoTimestamps.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


@cache
def _document(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return _string_keys(yaml.load(handle, Loader=_NoTimestamps))  # noqa: S506 - a safe loader subclass


def _string_keys(node: Any) -> Any:
    """YAML reads ``responses: {200: ...}`` with integer keys; OpenAPI means strings."""
    if isinstance(node, dict):
        return {str(k) if isinstance(k, int) else k: _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters
    full_url_pattern: str = ""


@dataclass
class _Response:
    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers


def _as_request(request: httpx.Request) -> _Request:
    url = urlsplit(str(request.url))
    content = request.content or None
    ctype = request.headers.get("content-type", "application/json" if content else "")
    return _Request(
        host_url=f"{url.scheme}://{url.netloc}",
        path=url.path,
        method=request.method.lower(),
        body=content,
        content_type=ctype.lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query, keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        ),
    )


def _as_response(response: httpx.Response) -> _Response:
    return _Response(
        status_code=response.status_code,
        data=response.content or None,
        content_type=response.headers.get("content-type", "").lower(),
        headers=Headers(list(response.headers.items())),
    )


class OpenApiContract:
    """One vendor document, served (for validation) at ``server_url``."""

    def __init__(self, document: dict[str, Any], server_url: str) -> None:
        spec = {**document, "servers": [{"url": server_url.rstrip("/")}]}
        self.api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))

    @classmethod
    def load(cls, path: Path, server_url: str) -> OpenApiContract:
        return cls(_document(path), server_url)

    def request_errors(self, request: httpx.Request) -> list[str]:
        """Why ``request`` does not conform (empty: it does). Missing credentials are not checked."""
        errors = []
        for error in self.api.iter_request_errors(_as_request(request)):
            if isinstance(error, SecurityValidationError):
                continue
            errors.append(_describe(error))
        return errors

    def response_errors(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        """Why ``response`` to ``request`` does not conform (empty: it does)."""
        return [
            _describe(error)
            for error in self.api.iter_response_errors(_as_request(request), _as_response(response))
        ]

    def checking(self, inner: httpx.AsyncBaseTransport, *, responses: bool = True) -> ContractTransport:
        """A transport that validates every exchange through ``inner`` and records violations."""
        return ContractTransport(inner=inner, contract=self, check_responses=responses)


def _describe(error: BaseException) -> str:
    causes = []
    cause: BaseException | None = error
    while cause is not None:
        extra = getattr(cause, "schema_errors", None)
        if extra:
            causes.extend(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in extra)
        cause = cause.__cause__
    text = f"{type(error).__name__}: {error}"
    text = text if len(text) <= 400 else text[:400] + "..."
    return text + (f" ({'; '.join(c[:300] for c in causes)})" if causes else "")


@dataclass
class ContractTransport(httpx.AsyncBaseTransport):
    """Passes requests to ``inner``; records each request or response that breaks the contract."""

    inner: httpx.AsyncBaseTransport
    contract: OpenApiContract
    check_responses: bool = True
    violations: list[str] = field(default_factory=list)
    exchanges: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        for problem in self.contract.request_errors(request):
            self.violations.append(f"request {request.method} {request.url.path}: {problem}")
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges += 1
        if self.check_responses:
            for problem in self.contract.response_errors(request, response):
                body = response.content[:300].decode(errors="replace")
                self.violations.append(
                    f"response {response.status_code} to {request.method} {request.url.path}: {problem} -- {body}"
                )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
