"""Settings of one Shopify shop."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from connector.platforms import AccountSettings

__all__ = ["ShopifySettings"]

_SHOP = re.compile(r"^[a-z0-9][a-z0-9\-]*$")


class ShopifySettings(AccountSettings):
    """A Shopify shop read through the Admin GraphQL API with a custom-app access token."""

    platform: Literal["shopify"] = "shopify"
    shop: str = Field(description="the shop's myshopify subdomain, e.g. 'acme' for acme.myshopify.com")
    access_token: SecretStr = Field(description="Admin API access token of a custom app (shpat_...)")
    api_version: str = Field(default="2025-01", pattern=r"^(\d{4}-(01|04|07|10)|unstable)$")
    base_url: AnyHttpUrl | None = Field(default=None, description="override the API host (sandboxes only)")

    @field_validator("shop", mode="before")
    @classmethod
    def _shop_name(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
            value = value.removesuffix(".myshopify.com")
            if not _SHOP.match(value):
                raise ValueError("expected the myshopify subdomain, e.g. 'acme' or 'acme.myshopify.com'")
        return value
