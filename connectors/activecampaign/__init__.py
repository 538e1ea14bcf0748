"""ActiveCampaign sink: contacts, lists, tags and custom fields through API v3's bulk importer."""

from connector.platforms import PlatformInfo, Role
from connectors.activecampaign.settings import ActiveCampaignSettings
from connectors.activecampaign.sink import ActiveCampaignSink

__all__ = ["PLATFORM", "ActiveCampaignSettings", "ActiveCampaignSink"]

PLATFORM = PlatformInfo(
    name="activecampaign",
    role=Role.SINK,
    settings=ActiveCampaignSettings,
    title="ActiveCampaign",
    sandbox="connectors.activecampaign.sandbox:create_sandbox",
    connector="connectors.activecampaign.sink:ActiveCampaignSink",
)
