"""Tracking numbers written back to the buyer's order on the channel."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .carriers import ShippingCarrier, identify_carrier


class TrackingLine(BaseModel):
    """A channel order line and how many of it this parcel carries."""

    model_config = ConfigDict(frozen=True)

    line_id: str
    sku: str
    quantity: int
    channel_data: dict[str, str] = Field(default_factory=dict)
    """What the channel stored on this line at intake (``IncomingLine.channel_data``)."""


class TrackingPush(BaseModel):
    """Tell the channel a parcel shipped, as if the merchant had typed it in.

    A sink must check what the channel already has before writing, so pushing the same
    ``idempotency_key`` twice leaves one tracking entry. ``completes_order`` is True when
    this parcel is the last one: the sink may then mark the order complete on the channel.
    ``carrier`` is the warehouse's name for the carrier; ``shipping_carrier`` is the same
    in the core's vocabulary (:mod:`fbs_core.domain.carriers`).
    """

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    external_order_id: str
    carrier: str
    tracking_number: str
    shipped_at: AwareDatetime
    lines: tuple[TrackingLine, ...]
    completes_order: bool
    tracking_url: str | None = None
    channel_data: dict[str, str] = Field(default_factory=dict)
    """What the channel stored on the order at intake (``IncomingOrder.channel_data``)."""

    @property
    def shipping_carrier(self) -> ShippingCarrier:
        """The carrier in the core's vocabulary (``carrier`` is the warehouse's own words).

        Map ``shipping_carrier.code`` to the channel's codes; for ``other`` send
        ``shipping_carrier.name`` and ``shipping_carrier.tracking_url``.
        """
        return identify_carrier(self.carrier, self.tracking_number, self.tracking_url)


class TrackingResult(BaseModel):
    """What the sink did: the channel's id for the entry, and whether it was already there."""

    model_config = ConfigDict(frozen=True)

    reference: str
    already_present: bool = False
