"""WooCommerce REST API key authentication, ported from ``WC_REST_Authentication`` (WooCommerce 11).

Which credentials count depends on whether WordPress sees HTTPS:

* over HTTPS, ``?consumer_key=…&consumer_secret=…`` first, else HTTP Basic (key as user, secret
  as password); a host that strips the ``Authorization`` header leaves only the query string;
* then (always over plain HTTP) an OAuth 1.0a one-legged signature, its parameters in the query
  string or an ``Authorization: OAuth …`` header, verified as ``check_oauth_signature`` does:
  the base string is ``METHOD&rawurlencode(url)&`` plus every parameter but the signature,
  sorted by name with ``strcmp``, each ``name=value`` encoded twice and joined with ``%26``; the
  key is ``secret&``; then the timestamp must be within 15 minutes and the nonce unused.

The outcome is WordPress's: an error it reports at once (401 ``woocommerce_rest_authentication_error``
and friends), or a user (or none, which each route turns into its own "cannot view" 401 later).
An unknown key over Basic is not an error: WooCommerce falls through to "no user".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

from starlette.requests import Request

from connector.clock import Clock
from connectors.woocommerce.sandbox_wp import PHPArray, php_query

__all__ = ["AuthOutcome", "WooCommerceAuth"]

NONCE_WINDOW = 15 * 60  # seconds: timestamps further off are refused, used nonces are kept this long
_OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                   "oauth_signature_method")
_AUTH_ERROR = "woocommerce_rest_authentication_error"
_HASHES = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


@dataclass(frozen=True)
class AuthOutcome:
    """Who the request authenticated as: ``user`` is True for the key's user; ``error`` is (code, message)."""

    user: bool
    error: tuple[str, str] | None = None


class WooCommerceAuth:
    """Checks one consumer key and secret the way a WooCommerce site does."""

    def __init__(self, consumer_key: str, consumer_secret: str, clock: Clock, *, https: bool | None,
                 strip_authorization: bool) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.clock = clock
        self.https = https
        self.strip_authorization = strip_authorization
        self._nonces: dict[int, str] = {}  # timestamp -> the last nonce used with it, as WooCommerce stores them
        self._lock = threading.Lock()

    def is_https(self, request: Request) -> bool:
        """Whether WordPress would see this request as HTTPS (``is_ssl()``)."""
        return self.https if self.https is not None else request.url.scheme == "https"

    def check(self, request: Request, query: PHPArray) -> AuthOutcome:
        """Authenticate ``request`` (its PHP-parsed query string given)."""
        header = "" if self.strip_authorization else request.headers.get("authorization", "").strip()
        error: tuple[str, str] | None = None
        https = self.is_https(request)
        if https:
            user, error = self._basic(query, header)
            if user:
                return AuthOutcome(True)
        user, oauth_error = self._oauth(request, query, header, https)
        return AuthOutcome(user, oauth_error or error)

    # -- HTTPS: the keys themselves ------------------------------------------------------------------
    def _basic(self, query: PHPArray, header: str) -> tuple[bool, tuple[str, str] | None]:
        key, secret = _text(query.get("consumer_key")), _text(query.get("consumer_secret"))
        if not (_filled(key) and _filled(secret)):
            key, secret = _basic_credentials(header)
        if not (_filled(key) and _filled(secret)):
            return False, None
        if not self._known(key):
            return False, None
        if not hmac.compare_digest(self.consumer_secret.encode(), secret.encode()):
            return False, (_AUTH_ERROR, "Consumer secret is invalid.")
        return True, None

    def _known(self, key: str) -> bool:
        # WooCommerce looks the key up by its hash after sanitize_text_field (which trims it).
        return hmac.compare_digest(" ".join(key.split()).encode(), self.consumer_key.encode())

    # -- OAuth 1.0a one-legged ---------------------------------------------------------------------------
    def _oauth(self, request: Request, query: PHPArray, header: str,
               https: bool) -> tuple[bool, tuple[str, str] | None]:
        params: dict[Any, Any] = dict(query)
        params.update(_oauth_header(header))
        missing = [name for name in _OAUTH_REQUIRED if not _filled(_text(params.get(name)))]
        if len(missing) == len(_OAUTH_REQUIRED):
            return False, None  # not trying OAuth at all
        if missing:
            plural = "s" if len(missing) > 1 else ""
            return False, ("woocommerce_rest_authentication_missing_parameter",
                           f"Missing OAuth parameter{plural} {', '.join(missing)}")
        if not self._known(_text(params["oauth_consumer_key"])):
            return False, (_AUTH_ERROR, "Consumer key is invalid.")
        problem = self._check_signature(request, params, https)
        if problem is not None:
            return False, (_AUTH_ERROR, problem)
        problem = self._check_timestamp_and_nonce(_text(params["oauth_timestamp"]), _text(params["oauth_nonce"]))
        if problem is not None:
            return False, (_AUTH_ERROR, problem)
        return True, None

    def _check_signature(self, request: Request, params: dict[Any, Any], https: bool) -> str | None:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        path = raw_path.split(b"?")[0].decode("latin-1")
        url = f"{'https' if https else 'http'}://{_host(request, https)}{path}"
        given = unquote(_text(params.pop("oauth_signature")).replace(" ", "+"))
        method = _text(params.get("oauth_signature_method"))
        pairs = _signed_pairs(dict(sorted(params.items(), key=lambda item: str(item[0]))))
        base = f"{request.method.upper()}&{_rawurlencode(url)}&" + "%26".join(pairs)
        if method not in _HASHES:
            return "Invalid signature - signature method is invalid."
        digest = hmac.new(f"{self.consumer_secret}&".encode(), base.encode(), _HASHES[method]).digest()
        if not hmac.compare_digest(base64.b64encode(digest), given.encode()):
            return "Invalid signature - provided signature does not match."
        return None

    def _check_timestamp_and_nonce(self, timestamp: str, nonce: str) -> str | None:
        now = int(self.clock.now().timestamp())
        try:
            stamp = int(timestamp)
        except ValueError:
            return "Invalid timestamp."
        if not now - NONCE_WINDOW <= stamp <= now + NONCE_WINDOW:
            return "Invalid timestamp."
        with self._lock:
            if nonce in self._nonces.values():
                return "Invalid nonce - nonce has already been used."
            self._nonces[stamp] = nonce
            for old in [t for t in self._nonces if t < now - NONCE_WINDOW]:
                del self._nonces[old]  # what is left is bounded by the window: at most one nonce a second
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _filled(value: str) -> bool:
    """PHP's ``! empty()`` for a request string: "" and "0" are empty."""
    return value not in ("", "0")


def _basic_credentials(header: str) -> tuple[str, str]:
    """``PHP_AUTH_USER`` and ``PHP_AUTH_PW`` from a ``Basic`` Authorization header."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


def _oauth_header(header: str) -> dict[str, str]:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth …`` header (``parse_header``)."""
    if not header.startswith("OAuth "):
        return {}
    found: dict[str, str] = {}
    for part in header[6:].split(","):
        name, _, value = part.strip().partition("=")
        if name.startswith("oauth_"):
            found[name] = unquote_plus(value.strip().strip('"'))
    return found


def _host(request: Request, https: bool) -> str:
    host = (request.headers.get("host") or request.url.netloc).lower()
    default = ":443" if https else ":80"
    return host[: -len(default)] if host.endswith(default) else host


def _rawurlencode(value: str) -> str:
    """PHP's ``rawurlencode`` (RFC 3986: only ``A-Za-z0-9-_.~`` stay as they are)."""
    return quote(value, safe="")


def _signed_pairs(params: Mapping[Any, Any], prefix: str = "") -> list[str]:
    """``normalize_parameters`` then ``join_with_equals_sign``: each ``name=value`` encoded once more."""
    pairs: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else _rawurlencode(str(key))
        if isinstance(value, dict):
            pairs += _signed_pairs({k: _rawurlencode(v) if isinstance(v, str) else v for k, v in value.items()}, name)
        else:
            encoded = value if prefix else _rawurlencode(_text(value))
            pairs.append(_rawurlencode(f"{name}={encoded}"))
    return pairs


def query_of(request: Request) -> PHPArray:
    """The request's query string as PHP reads it."""
    return php_query(request.scope.get("query_string", b"").decode("utf-8", "replace"))
