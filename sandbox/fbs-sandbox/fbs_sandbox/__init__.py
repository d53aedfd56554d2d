"""Local imitations of WooCommerce, Stripe and the fbs warehouse API, and the fbs demo."""

__version__ = "0.1.0"
