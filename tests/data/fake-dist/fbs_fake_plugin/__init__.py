"""Fake plugins for fbs's plugin-loading tests: one good, three broken in different ways."""
