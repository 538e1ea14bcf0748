"""Shopify source."""

from connector.platforms import PlatformInfo, Role
from connectors.shopify.bulk import BulkOperationError, BulkPolicy
from connectors.shopify.client import (
    ShopifyAccessDeniedError,
    ShopifyClient,
    ShopifyGraphQLError,
    ShopifyThrottledError,
)
from connectors.shopify.settings import ShopifySettings
from connectors.shopify.source import ShopifySource

__all__ = [
    "PLATFORM",
    "BulkOperationError",
    "BulkPolicy",
    "ShopifyAccessDeniedError",
    "ShopifyClient",
    "ShopifyGraphQLError",
    "ShopifySettings",
    "ShopifySource",
    "ShopifyThrottledError",
]

PLATFORM = PlatformInfo(
    name="shopify",
    role=Role.SOURCE,
    settings=ShopifySettings,
    title="Shopify",
    sandbox="connectors.shopify.sandbox:create_sandbox",
    connector="connectors.shopify.source:ShopifySource",
)
