"""Brevo sink."""

from connector.platforms import PlatformInfo, Role
from connectors.brevo.settings import BrevoSettings
from connectors.brevo.sink import BrevoSink

__all__ = ["PLATFORM", "BrevoSettings", "BrevoSink"]

PLATFORM = PlatformInfo(
    name="brevo",
    role=Role.SINK,
    settings=BrevoSettings,
    title="Brevo",
    sandbox="connectors.brevo.sandbox:create_sandbox",
)
