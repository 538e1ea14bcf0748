"""Settings of one Shopify shop."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from connector.platforms import AccountSettings

__all__ = ["ShopifySettings"]

_SHOP = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_METAFIELD = re.compile(r"^[A-Za-z0-9_\-]{2,64}\.[A-Za-z0-9_\-]{2,64}$")


class ShopifySettings(AccountSettings):
    """A Shopify shop read through the Admin GraphQL API with a custom-app access token."""

    platform: Literal["shopify"] = "shopify"
    shop: str = Field(description="the shop's myshopify subdomain, e.g. 'acme' for acme.myshopify.com")
    access_token: SecretStr = Field(description="Admin API access token of a custom app (shpat_...)")
    api_version: str = Field(default="2025-01", pattern=r"^(\d{4}-(01|04|07|10)|unstable)$")
    base_url: AnyHttpUrl | None = Field(default=None, description="override the API host (sandboxes only)")
    customer_metafields: list[str] = Field(
        default_factory=list,
        description="customer metafields to read, as namespace.key (e.g. facts.birthday, loyalty.tier)",
    )
    use_bulk: bool = Field(default=True, description="backfill through bulk operations (recommended)")

    @field_validator("customer_metafields")
    @classmethod
    def _metafield_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not _METAFIELD.match(key):
                raise ValueError(f"{key!r} is not namespace.key (letters, digits, - and _ in each part)")
        return value

    @field_validator("shop", mode="before")
    @classmethod
    def _shop_name(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
            value = value.removesuffix(".myshopify.com")
            if not _SHOP.match(value):
                raise ValueError("expected the myshopify subdomain, e.g. 'acme' or 'acme.myshopify.com'")
        return value
