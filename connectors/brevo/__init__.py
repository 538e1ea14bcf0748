"""Brevo sink."""

from connector.platforms import PlatformInfo, Role
from connectors.brevo.settings import BrevoSettings

__all__ = ["PLATFORM", "BrevoSettings"]

PLATFORM = PlatformInfo(
    name="brevo",
    role=Role.SINK,
    settings=BrevoSettings,
    title="Brevo",
    sandbox="connectors.brevo.sandbox:create_sandbox",
)
