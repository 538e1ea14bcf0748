"""woocommerce connector."""
