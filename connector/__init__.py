"""connector: shop customer data in, email-marketing segments out."""

__version__ = "0.1.0"
