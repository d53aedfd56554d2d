"""A fork of the fake plugin that claims the same supplier type name."""
