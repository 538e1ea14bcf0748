"""Settings of one WooCommerce shop."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from connector.platforms import AccountSettings

__all__ = ["WooCommerceSettings"]


def _lowered(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip().lower() for v in values if v.strip()))


class WooCommerceSettings(AccountSettings):
    """A self-hosted WooCommerce shop read through the REST API v3 with REST API keys."""

    platform: Literal["woocommerce"] = "woocommerce"
    url: AnyHttpUrl = Field(description="the shop's address, e.g. https://shop.example.com")
    consumer_key: SecretStr = Field(description="REST API consumer key (ck_...), read permission")
    consumer_secret: SecretStr = Field(description="REST API consumer secret (cs_...)")
    auth: Literal["auto", "basic", "query", "oauth1"] = Field(
        default="auto",
        description="auto: HTTP Basic over HTTPS (query-string keys if the host strips the Authorization "
                    "header), OAuth 1.0a signatures over plain HTTP",
    )
    concurrency: int = Field(default=2, ge=1, le=16, description="requests in flight at once; be gentle")
    max_requests_per_second: float = Field(default=10.0, gt=0, le=100, description="a ceiling on request starts")
    timeout_seconds: float = Field(default=60.0, gt=0, le=600, description="per request; shared hosts can be slow")
    verify_tls: bool = True
    consent_meta_key: str | None = Field(
        default=None,
        description="customer/order meta_data key holding the newsletter opt-in (WooCommerce core has none); "
                    "unset: everyone is 'not subscribed'",
    )
    consent_date_meta_key: str | None = Field(default=None, description="meta_data key with the opt-in's date")
    consent_subscribed_values: tuple[str, ...] = ("yes", "1", "true", "on", "subscribed", "opt-in", "opted_in")
    consent_unsubscribed_values: tuple[str, ...] = ("unsubscribed", "opt-out", "opted_out")
    consent_pending_values: tuple[str, ...] = ("pending",)
    cart_delay_minutes: int = Field(
        default=60, ge=0, description="an unpaid order (pending, failed, checkout-draft) becomes an abandoned cart "
                                      "after this long without a change",
    )
    customer_full_scan_hours: float = Field(
        default=24.0, gt=0, description="the customers endpoint has no 'modified' filter: rescan all customers "
                                        "this often (changes in between arrive through orders and new sign-ups)",
    )
    overlap_minutes: float = Field(default=5.0, ge=0, description="increments re-read this far behind the cursor")

    @field_validator("consent_subscribed_values", "consent_unsubscribed_values", "consent_pending_values")
    @classmethod
    def _normalise_values(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _lowered(value)
