"""fbs supplier plugin for warehouses that speak the fbs warehouse REST API."""

__version__ = "0.1.0"
