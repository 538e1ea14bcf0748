"""brevo connector."""
