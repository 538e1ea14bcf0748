"""Settings of one ActiveCampaign account."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from connector.platforms import AccountSettings

__all__ = ["ActiveCampaignSettings"]


class ActiveCampaignSettings(AccountSettings):
    """An ActiveCampaign account reached through API v3 with an API token.

    ``exclude_automations`` defaults to False, ActiveCampaign's own default: the segment tags we
    push (``Trigger – …``, ``Status – …``) exist to start automations, and an import that
    excluded them would silently break that. Set it to True for a first backfill of an account
    whose automations must not fire for every existing customer.
    """

    platform: Literal["activecampaign"] = "activecampaign"
    url: AnyHttpUrl = Field(description="the account's API URL, e.g. https://acme.api-us1.com")
    api_key: SecretStr = Field(description="Settings > Developer > API Access > Key")
    requests_per_second: float = Field(
        default=5.0, gt=0, le=5.0, description="our share of the account's 5 req/s, shared by all integrations"
    )
    bulk_imports_per_minute: float = Field(
        default=100.0, gt=0, le=100.0, description="our share of the 100 multi-contact bulk imports a minute"
    )
    single_imports_per_minute: float = Field(
        default=20.0, gt=0, le=20.0, description="our share of the 20 single-contact bulk imports a minute"
    )
    exclude_automations: bool = Field(
        default=False, description="true: automations do not run for contacts the connector imports"
    )
    import_poll_seconds: float = Field(
        default=2.0, gt=0, le=300, description="first look at an import's status this long after queueing it "
                                               "(adapts to how long the account's imports take)"
    )
    import_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="an import not completed after this long counts as failed for its persons"
    )
    max_pending_imports: int = Field(default=50, ge=1, le=1000, description="imports queued but not yet confirmed")
    list_sender_url: str = Field(
        default="", description="the website shown in the footer of lists the connector creates (sender_url)"
    )
    list_sender_reminder: str = Field(
        default="You are receiving this email because you opted in to news from our shop.",
        description="the permission reminder of lists the connector creates (sender_reminder)",
    )
