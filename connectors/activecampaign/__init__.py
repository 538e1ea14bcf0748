"""ActiveCampaign sink."""

from connector.platforms import PlatformInfo, Role
from connectors.activecampaign.settings import ActiveCampaignSettings

__all__ = ["PLATFORM", "ActiveCampaignSettings"]

PLATFORM = PlatformInfo(name="activecampaign", role=Role.SINK, settings=ActiveCampaignSettings, title="ActiveCampaign")
