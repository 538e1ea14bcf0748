"""WordPress REST conventions the WooCommerce sandbox answers with: headers, errors, links, ``_fields``.

Everything here is what WordPress core does around any REST route, as captured from WordPress 7.1
with WooCommerce 11.0.1:

* headers in WordPress's order (``Link: <…/wp-json/>; rel="https://api.w.org/"`` unless the
  response pages, ``Allow`` only for a matched route the caller may use, no-cache headers for an
  authenticated caller and ``Vary: Origin`` for an anonymous one);
* JSON as PHP's ``json_encode`` writes it (``\\/`` and ``\\uXXXX`` escapes);
* errors as ``{"code", "message", "data": {"status"}}``;
* query strings parsed the way PHP parses ``$_GET`` (``status[]=a`` is an array), and pagination
  links built the way ``add_query_arg`` builds them, quirks included (a raw ``+`` in a value
  becomes a space on the way, as it does on a real site).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "ALLOW_COLLECTION",
    "ALLOW_ITEM",
    "WPParamError",
    "filter_fields",
    "page_link",
    "php_query",
    "site_root",
    "wp_error",
    "wp_invalid_params",
    "wp_response",
]

ALLOW_COLLECTION = "GET, POST"
ALLOW_ITEM = "GET, POST, PUT, PATCH, DELETE"
_EXPOSE = "X-WP-Total, X-WP-TotalPages, Link"
_ALLOW_HEADERS = "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"
_NO_CACHE = (("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
             ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"))
PHPArray = dict[Any, Any]


def site_root(request: Request) -> str:
    """The site's address as the request reached it (scheme and host): WordPress's home URL here."""
    host = request.headers.get("host") or (request.url.hostname or "localhost")
    return f"{request.url.scheme}://{host}"


def wp_json(data: Any) -> bytes:
    """``data`` as PHP's ``json_encode`` writes it: compact, ``\\uXXXX`` for non-ASCII, ``\\/`` for ``/``."""
    # A "/" only ever occurs inside JSON strings, so escaping it everywhere is what PHP does.
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def wp_response(
    data: Any,
    *,
    root: str,
    status: int = 200,
    authenticated: bool,
    allow: str | None = None,
    total: tuple[int, int] | None = None,
    links: Iterable[tuple[str, str]] = (),
) -> Response:
    """A WordPress REST response with WordPress's headers, in its order.

    Args:
        root: the site root, for the API discovery link.
        authenticated: whether a user was logged in (no-cache headers) or not (``Vary: Origin``).
        allow: the ``Allow`` header of the matched route, if the caller may use it.
        total: ``(X-WP-Total, X-WP-TotalPages)`` of a collection.
        links: ``(rel, url)`` pagination links; they replace the discovery link.
    """
    links = list(links)
    headers: list[tuple[str, str]] = [("Content-Type", "application/json; charset=UTF-8"), ("X-Robots-Tag", "noindex")]
    if not links:
        headers.append(("Link", f'<{root}/wp-json/>; rel="https://api.w.org/"'))
    headers += [("X-Content-Type-Options", "nosniff"), ("Access-Control-Expose-Headers", _EXPOSE),
                ("Access-Control-Allow-Headers", _ALLOW_HEADERS)]
    if total is not None:
        headers += [("X-WP-Total", str(total[0])), ("X-WP-TotalPages", str(total[1]))]
    if links:
        headers.append(("Link", ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)))
    if allow:
        headers.append(("Allow", allow))
    headers += list(_NO_CACHE) if authenticated else [("Vary", "Origin")]
    response = Response(wp_json(data), status_code=status)
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers] + [
        (b"content-length", response.headers["content-length"].encode("latin-1"))]
    return response


def wp_error(code: str, message: str, status: int, *, root: str, authenticated: bool,
             allow: str | None = None) -> Response:
    """A ``WP_Error`` as WordPress sends it."""
    return wp_response({"code": code, "message": message, "data": {"status": status}}, root=root, status=status,
                       authenticated=authenticated, allow=allow)


@dataclass(frozen=True)
class WPParamError:
    """One invalid request parameter, as ``rest_validate_request_arg`` reports it."""

    param: str
    code: str  # e.g. rest_out_of_bounds, rest_invalid_type, rest_not_in_enum, rest_invalid_date
    message: str


def wp_invalid_params(errors: list[WPParamError], *, root: str, authenticated: bool, allow: str) -> Response:
    """The 400 ``rest_invalid_param`` for every invalid parameter, in the route's argument order."""
    body = {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): " + ", ".join(e.param for e in errors),
        "data": {
            "status": 400,
            "params": {e.param: e.message for e in errors},
            "details": {e.param: {"code": e.code, "message": e.message, "data": None} for e in errors},
        },
    }
    return wp_response(body, root=root, status=400, authenticated=authenticated,
                       allow=allow if authenticated else None)


# -- query strings ---------------------------------------------------------------------------------------
def php_query(raw: str) -> PHPArray:
    """A query string as PHP's ``parse_str`` reads it into ``$_GET``.

    ``a[]=1&a[]=2`` gives ``{"a": {0: "1", 1: "2"}}``, ``a[x]=1`` gives ``{"a": {"x": "1"}}``; a
    later scalar overwrites an earlier one in place; dots and spaces in a top-level name become
    underscores; ``+`` is a space.
    """
    out: PHPArray = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        bracket = name.find("[")
        base = name if bracket < 0 else name[:bracket]
        if not base:
            continue
        base = base.replace(".", "_").replace(" ", "_")
        subkeys = _subkeys(name[bracket:]) if bracket >= 0 else None
        if subkeys is None:
            out[base] = value
            continue
        target = out.get(base)
        if not isinstance(target, dict):
            target = out[base] = {}
        for i, sub in enumerate(subkeys):
            key: Any = sub
            if sub == "":
                key = max((k for k in target if isinstance(k, int)), default=-1) + 1
            elif sub.isdigit() and (sub == "0" or not sub.startswith("0")):
                key = int(sub)
            if i == len(subkeys) - 1:
                target[key] = value
            else:
                nested = target.get(key)
                if not isinstance(nested, dict):
                    nested = target[key] = {}
                target = nested
    return out


def _subkeys(rest: str) -> list[str] | None:
    """``[a][]`` → ``["a", ""]``; None when the brackets do not parse (PHP then keeps the name as is)."""
    keys: list[str] = []
    while rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            return keys or None
        keys.append(rest[1:end])
        rest = rest[end + 1:]
    return keys


def _php_urlencode(value: str) -> str:
    return quote_plus(value, safe="").replace("~", "%7E")


def _build_query(params: Mapping[Any, Any], encode: bool, prefix: str = "") -> list[str]:
    """WordPress's ``_http_build_query``: nested arrays as ``key%5Bsub%5D``; None skipped, False as 0."""
    parts: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            parts += _build_query(value, encode, name)
            continue
        text = "1" if value is True else "0" if value is False else str(value)
        parts.append(f"{name}={_php_urlencode(text) if encode else text}")
    return parts


def page_link(root: str, path: str, params: Mapping[Any, Any], page: int) -> str:
    """The URL of ``page`` of a collection, as WooCommerce builds its prev/next links.

    ``add_query_arg($request->get_query_params(), rest_url(...))`` first writes the sanitized
    parameters raw (dropping ``false`` ones), then ``add_query_arg('page', $page, $base)`` parses
    that string again, URL-encodes every value and sets ``page`` in place.
    """
    first = "&".join(_build_query({k: v for k, v in params.items() if v is not False}, encode=False))
    again = php_query(first)
    again["page"] = page
    return f"{root}{path}?" + "&".join(_build_query(again, encode=True))


def php_list(value: Any) -> list[str]:
    """``wp_parse_list``: an array's values, or a string split on commas and whitespace."""
    if isinstance(value, dict):
        return [v if isinstance(v, str) else "" for v in value.values()]
    return [part for part in str(value).replace(",", " ").split() if part]


def filter_fields(data: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    """WordPress's ``_fields``: keep only the named fields (``billing.email`` names a nested one)."""
    wanted: dict[str, Any] = {}
    for field in fields:
        parts = field.strip().split(".")
        ref = wanted
        for part in parts[:-1]:
            if ref.get(part) is True:
                break
            ref = ref.setdefault(part, {})
        else:
            ref[parts[-1]] = True
    return _intersect(data, wanted)


def _intersect(data: Any, wanted: dict[str, Any]) -> Any:
    if isinstance(data, list):
        return [item for i, item in enumerate(data) if str(i) in wanted]
    kept = {k: v for k, v in data.items() if k in wanted}
    for key, value in kept.items():
        if isinstance(wanted[key], dict) and isinstance(value, dict | list):
            kept[key] = _intersect(value, wanted[key])
    return kept
