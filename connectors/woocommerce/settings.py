"""Settings of one WooCommerce shop."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr

from connector.platforms import AccountSettings

__all__ = ["WooCommerceSettings"]


class WooCommerceSettings(AccountSettings):
    """A self-hosted WooCommerce shop read through the REST API v3 with REST API keys."""

    platform: Literal["woocommerce"] = "woocommerce"
    url: AnyHttpUrl = Field(description="the shop's address, e.g. https://shop.example.com")
    consumer_key: SecretStr = Field(description="REST API consumer key (ck_...), read permission")
    consumer_secret: SecretStr = Field(description="REST API consumer secret (cs_...)")
    concurrency: int = Field(default=2, ge=1, le=16, description="requests in flight at once; be gentle")
    verify_tls: bool = True
