"""fbs channel plugin for eBay stores."""

__version__ = "0.1.0"
