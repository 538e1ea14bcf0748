"""Settings of one ActiveCampaign account."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from connector.platforms import AccountSettings

__all__ = ["ActiveCampaignSettings"]


class ActiveCampaignSettings(AccountSettings):
    """An ActiveCampaign account reached through API v3 with an API token."""

    platform: Literal["activecampaign"] = "activecampaign"
    url: AnyHttpUrl = Field(description="the account's API URL, e.g. https://acme.api-us1.com")
    api_key: SecretStr = Field(description="Settings > Developer > API Access > Key")
    requests_per_second: float = Field(
        default=5.0, gt=0, le=5.0, description="our share of the account's 5 req/s, shared by all integrations"
    )
