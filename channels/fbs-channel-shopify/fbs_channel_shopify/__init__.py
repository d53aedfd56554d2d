"""fbs channel plugin for Shopify shops (Admin GraphQL API)."""

__version__ = "0.1.0"
