"""Postal addresses as the channels hand them to us."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Address(BaseModel):
    """A ship-to address. Fields are optional so a bad address can be stored and held.

    ``region`` is the state or province code (``"TX"``); ``country`` is ISO 3166-1 alpha-2.
    Validation of what fbs can ship to lives in :mod:`fbs_core.pipeline.destinations`.
    """

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None
