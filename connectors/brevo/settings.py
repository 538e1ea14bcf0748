"""Settings of one Brevo account.

How the plan's names become Brevo's (see also ``connectors/brevo/names.py`` and the README):

* a managed field ``"Total spent"`` is the normal attribute ``TOTAL_SPENT`` (upper case, every run
  of other characters one ``_``, accents dropped); the reserved keys ``first_name``, ``last_name``
  and ``phone`` are ``first_name_attribute``, ``last_name_attribute`` and ``SMS``;
* managed tags (segments) are the options of one normal multiple-choice attribute,
  ``tags_attribute``; Brevo contacts have no tags;
* ``tag_lists`` also puts the members of a tag on a list (for campaigns that target lists), for
  subscribed contacts only: a list is a mailing audience, so consent applies to it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from connector.platforms import AccountSettings

__all__ = ["BrevoSettings"]

_ATTRIBUTE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class BrevoSettings(AccountSettings):
    """A Brevo account reached through API v3 with an API key."""

    platform: Literal["brevo"] = "brevo"
    api_key: SecretStr = Field(description="SMTP & API > API keys (xkeysib-...)")
    base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.brevo.com/v3"))
    folder: str = Field(default="connector", min_length=1, description="folder that holds our lists")
    tags_attribute: str = Field(
        default="SEGMENTS", description="the normal multiple-choice attribute that holds the managed tags (segments)"
    )
    tag_lists: dict[str, str] = Field(
        default_factory=dict,
        description="tag -> list name: subscribed members of the tag are also put on that list (in our folder)",
    )
    first_name_attribute: str = Field(default="FIRSTNAME", description="the account's first-name attribute")
    last_name_attribute: str = Field(default="LASTNAME", description="the account's last-name attribute")
    contacts_per_second: float = Field(
        default=10.0, gt=0, le=100, description="budget of /v3/contacts/...: 10 a second on the General tier"
    )
    other_per_hour: int = Field(
        default=100, ge=2, le=10_000,
        description="budget of every other endpoint, /v3/processes/{id} included: 100 an hour on the General tier",
    )
    other_burst: int = Field(
        default=10, ge=1, description="of other_per_hour, how many may go at once; the rest are spread over the hour",
    )
    import_max_bytes: int = Field(
        default=4_000_000, ge=10_000, le=8_000_000,
        description="largest contacts/import body sent (Brevo accepts 10 MB and recommends staying under 8 MB)",
    )
    process_poll_initial_seconds: float = Field(default=5.0, gt=0, description="first wait before asking an import")
    process_poll_max_seconds: float = Field(default=300.0, gt=0, description="longest wait between two asks")
    import_timeout_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="give up waiting for an import after this long (its persons fail)",
    )
    verify_margin_seconds: float = Field(
        default=300.0, ge=0,
        description="read-back of imported contacts starts this long before the import (clock skew)",
    )
    notify_url: AnyHttpUrl | None = Field(
        default=None, description="passed to imports as notifyUrl, when the daemon exposes an endpoint for it",
    )
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)

    @field_validator("tags_attribute", "first_name_attribute", "last_name_attribute")
    @classmethod
    def _attribute_name(cls, value: str) -> str:
        if not _ATTRIBUTE.match(value):
            raise ValueError(f"{value!r} is not a Brevo attribute name (A-Z, 0-9 and _, starting with a letter)")
        return value
