"""Brevo sink."""

from connector.platforms import PlatformInfo, Role
from connectors.brevo.settings import BrevoSettings
from connectors.brevo.sink import BrevoSink

__all__ = ["PLATFORM", "BrevoSettings", "BrevoSink"]

# The sandbox factory is connectors.brevo.sandbox:create_sandbox. It is registered here (sandbox=...)
# together with the change to tests/test_cli.py, which still uses brevo as "a platform without one".
PLATFORM = PlatformInfo(name="brevo", role=Role.SINK, settings=BrevoSettings, title="Brevo",
                        sandbox="connectors.brevo.sandbox:create_sandbox", connector="connectors.brevo.sink:BrevoSink")
