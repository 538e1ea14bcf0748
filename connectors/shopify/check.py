"""``connector check`` for a Shopify shop: the token answers, and the app holds the scopes we need."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import AuthError, ConfigError
from connectors.shopify.client import ShopifyAccessDeniedError, ShopifyClient

__all__ = ["check_shop"]

NEEDED = ("read_customers", "read_orders")
_CHECKOUT_PROBE = "query CheckoutProbe { abandonedCheckouts(first: 1) { nodes { id } } }"
_FIX = ("in Shopify admin: Settings > Apps and sales channels > Develop apps > your app > Configuration, "
        "add the Admin API scopes {scopes}, save and reinstall the app, then put the new token in the config")


class _Probe(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    abandoned_checkouts: dict[str, object] | None = Field(default=None, alias="abandonedCheckouts")


async def check_shop(client: ShopifyClient) -> str:
    """A one-line description of what was checked; raises with the fix when something is missing."""
    try:
        info = await client.shop_info()
    except AuthError as exc:
        raise ConfigError(f"the access token is refused ({exc}); create a new Admin API token for the app "
                          "and put it in the config") from None
    granted = {s.handle for s in (info.current_app_installation.access_scopes
                                  if info.current_app_installation else [])}
    missing = [scope for scope in NEEDED if scope not in granted]
    if missing:
        raise ConfigError("missing access scopes " + ", ".join(missing) + "; " + _FIX.format(scopes=", ".join(missing)))
    try:
        await client.execute(_CHECKOUT_PROBE, _Probe)
    except ShopifyAccessDeniedError:
        raise ConfigError("abandoned checkouts are refused: the staff account that installed the app needs the "
                          "'Manage abandoned checkouts' permission (Settings > Users and permissions)") from None
    name = info.shop.name if info.shop else client_name(client)
    old_orders = "" if "read_all_orders" in granted else "; without read_all_orders only the last 60 days of orders"
    return f"shop {name}: scopes {', '.join(sorted(granted & {*NEEDED, 'read_all_orders'}))}{old_orders}"


def client_name(client: ShopifyClient) -> str:
    return str(getattr(client, "path", "shop"))
