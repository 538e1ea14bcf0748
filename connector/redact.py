"""Keeping secrets and customer emails out of logs, errors, reprs and status output.

A :class:`Redactor` knows the secret values in play (tokens, keys, passwords) and removes them
from any text; it also strips secret-looking query parameters and headers by name, and masks
email addresses. Redactors are plain values: each HTTP client and each log handler holds one,
there is no process-wide registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "SECRET_NAMES", "Redactor", "mask_email"]

MASK = "***"

# Names whose values are secrets wherever they appear: query parameters, headers, form fields.
SECRET_NAMES = frozenset(
    {
        "access_token",
        "api-key",
        "api_key",
        "api-token",
        "apikey",
        "authorization",
        "client_secret",
        "consumer_key",
        "consumer_secret",
        "cookie",
        "key",
        "oauth_signature",
        "partner-key",
        "password",
        "proxy-authorization",
        "secret",
        "set-cookie",
        "signature",
        "token",
        "x-shopify-access-token",
    }
)

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-]+)@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
# name=value or "name": "value" pairs whose name says they are secret, e.g. in a body excerpt.
_NAMES = "|".join(re.escape(n) for n in sorted(SECRET_NAMES, key=len, reverse=True))
_PAIR = re.compile(
    r"""(?P<name>["']?(?:""" + _NAMES + r""")["']?\s*[:=]\s*["']?)(?P<value>[^"'&\s,;}]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic|OAuth)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE)
_MIN_SECRET_LEN = 4  # shorter "secrets" would mask ordinary words


def mask_email(email: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: enough to recognise, not enough to use."""
    local, sep, domain = email.partition("@")
    if not sep:
        return MASK
    return f"{local[:1]}{MASK}@{domain}"


class Redactor:
    """Removes known secret values, secret-named fields and full email addresses from text."""

    def __init__(self, secrets: Iterable[str] = (), *, mask_emails: bool = True) -> None:
        self._secrets = frozenset(s for s in secrets if s and len(s) >= _MIN_SECRET_LEN)
        # A secret can also appear URL-encoded (in a query string or a form body).
        encoded = {form for s in self._secrets for form in (quote(s, safe=""), quote_plus(s, safe=""))}
        self._mask_emails = mask_emails
        # Longest first, so a secret that contains another is removed whole.
        self._ordered = sorted(self._secrets | encoded, key=len, reverse=True)

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """A new redactor that also knows ``secrets``."""
        return Redactor([*self._secrets, *secrets], mask_emails=self._mask_emails)

    def __repr__(self) -> str:  # never list the secrets themselves
        return f"Redactor(<{len(self._secrets)} secrets>)"

    def text(self, value: str) -> str:
        """Redact free text: known secrets, ``name=value`` secret pairs, auth schemes, emails."""
        for secret in self._ordered:
            if secret in value:
                value = value.replace(secret, MASK)
        # Auth schemes first: "Authorization: Bearer x" must lose x, not just the word Bearer.
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        value = _PAIR.sub(lambda m: m.group("name") + MASK, value)
        if self._mask_emails:
            value = _EMAIL.sub(lambda m: mask_email(m.group(0)), value)
        return value

    def url(self, url: str) -> str:
        """Redact a URL: userinfo, secret-named query parameters, and any known secret."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = urlencode(
            [(k, MASK if k.lower() in SECRET_NAMES else v) for k, v in parse_qsl(parts.query, True)],
            safe="*",
        )
        cleaned = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        return self.text(cleaned)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` with secret-named and secret-valued headers masked."""
        return {
            k: MASK if k.lower() in SECRET_NAMES else self.text(v) for k, v in headers.items()
        }

    def excerpt(self, body: str | bytes, limit: int = 200) -> str:
        """The redacted start of a response body, on one line, at most ``limit`` characters."""
        if isinstance(body, bytes):
            body = body[: limit * 4].decode("utf-8", errors="replace")
        flat = " ".join(self.text(body[: limit * 4]).split())
        return flat if len(flat) <= limit else flat[: limit - 1] + "…"
