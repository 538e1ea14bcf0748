"""WooCommerce source."""

from connector.platforms import PlatformInfo, Role
from connectors.woocommerce.settings import WooCommerceSettings

__all__ = ["PLATFORM", "WooCommerceSettings"]

PLATFORM = PlatformInfo(
    name="woocommerce",
    role=Role.SOURCE,
    settings=WooCommerceSettings,
    title="WooCommerce",
    sandbox="connectors.woocommerce.sandbox:create_sandbox",
    connector="connectors.woocommerce.source:WooCommerceSource",
)
