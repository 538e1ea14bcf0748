"""Settings of one Brevo account."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from connector.platforms import AccountSettings

__all__ = ["BrevoSettings"]


class BrevoSettings(AccountSettings):
    """A Brevo account reached through API v3 with an API key."""

    platform: Literal["brevo"] = "brevo"
    api_key: SecretStr = Field(description="SMTP & API > API keys (xkeysib-...)")
    base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.brevo.com/v3"))
    folder: str = Field(default="connector", min_length=1, description="folder that holds our lists")
