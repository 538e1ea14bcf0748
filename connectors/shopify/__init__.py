"""Shopify source."""

from connector.platforms import PlatformInfo, Role
from connectors.shopify.settings import ShopifySettings

__all__ = ["PLATFORM", "ShopifySettings"]

PLATFORM = PlatformInfo(name="shopify", role=Role.SOURCE, settings=ShopifySettings, title="Shopify")
