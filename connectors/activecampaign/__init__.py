"""activecampaign connector."""
