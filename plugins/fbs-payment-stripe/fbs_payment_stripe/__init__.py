"""fbs payment plugin: charges the merchant's card on file through Stripe."""

__version__ = "0.1.0"
