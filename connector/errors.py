"""The connector's one error tree.

Every error the connector raises on purpose is a :class:`ConnectorError`::

    ConnectorError
    ├── ConfigError              bad or missing configuration; never retried
    ├── RemoteAPIError           a platform answered with an error (status, method, redacted URL, excerpt)
    │   ├── AuthError            401/403: credentials or permissions are wrong; never retried
    │   ├── NotFoundError        404
    │   ├── RateLimitedError     429; carries ``retry_after``          (also a TransientError)
    │   └── ServerError          408 and 5xx                           (also a TransientError)
    ├── TransientError           may succeed if tried again
    │   ├── NetworkError         timeouts, refused or dropped connections, unreadable bodies
    │   ├── RateLimitedError
    │   └── ServerError
    ├── RetriesExhaustedError    a transient failure outlived the retry policy; ``last_error`` says which
    ├── RecordError              one bad record: quarantined and reported while the batch goes on
    └── StateError               the state store is missing, too new, or inconsistent

Messages name the record and field where there is one, and never carry a token, a key or a
customer's full email address: whoever builds the message passes it through a
:class:`connector.redact.Redactor` first.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "NetworkError",
    "NotFoundError",
    "RateLimitedError",
    "RecordError",
    "RemoteAPIError",
    "RetriesExhaustedError",
    "ServerError",
    "StateError",
    "TransientError",
]


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """The configuration is invalid or incomplete. Fixing the config is the only cure."""

    def __init__(self, message: str, *, source: str | None = None, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.source = source
        self.problems = problems


class TransientError(ConnectorError):
    """A failure that may go away if the same request is tried again later."""


class NetworkError(TransientError):
    """The request never got a usable answer: timeout, refused or dropped connection, broken body."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class RemoteAPIError(ConnectorError):
    """A platform answered with an HTTP error.

    Attributes:
        status: the HTTP status code.
        method: the HTTP method.
        url: the request URL with every secret removed.
        excerpt: the start of the response body, redacted and shortened.
        platform: which platform answered, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        url: str,
        excerpt: str = "",
        platform: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = url
        self.excerpt = excerpt
        self.platform = platform


class AuthError(RemoteAPIError):
    """401 or 403: the credentials are wrong, revoked, or lack a permission."""


class NotFoundError(RemoteAPIError):
    """404: the resource or endpoint does not exist."""


class RateLimitedError(RemoteAPIError, TransientError):
    """429: the platform asked us to slow down. ``retry_after`` is in seconds, when the platform said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(RemoteAPIError, TransientError):
    """408 or 5xx: the platform failed, or timed out waiting for us."""


class RetriesExhaustedError(ConnectorError):
    """A transient failure kept happening until the retry policy gave up.

    Attributes:
        attempts: how many attempts were made.
        last_error: the error of the final attempt.
    """

    def __init__(self, message: str, *, attempts: int, last_error: BaseException) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error


class RecordError(ConnectorError):
    """One source record cannot be used as it is.

    Attributes:
        record_id: the namespaced id of the record (``<platform>:<shop>:<id>``), or the best id known.
        entity: ``customer``, ``order``, ``cart`` ...
        field: the offending field (dotted path), or ``None`` for the record as a whole.
        reason: what is wrong and what to do about it.
    """

    def __init__(self, *, record_id: str, entity: str, field: str | None, reason: str) -> None:
        where = f"{entity} {record_id}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {reason}")
        self.record_id = record_id
        self.entity = entity
        self.field = field
        self.reason = reason


class StateError(ConnectorError):
    """The state store is missing, newer than this program, or inconsistent."""
