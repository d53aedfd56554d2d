"""fbs channel plugin for WooCommerce stores."""

__version__ = "0.1.0"
