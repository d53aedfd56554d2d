"""The core's carrier vocabulary: what warehouses write, what channels receive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fbs_core.domain import TrackingPush
from fbs_core.domain.carriers import Carrier, identify_carrier


@pytest.mark.parametrize(
    ("written", "code", "name"),
    [
        ("UPS", Carrier.ups, "UPS"),
        ("ups ground", Carrier.ups, "UPS"),
        ("United Parcel Service", Carrier.ups, "UPS"),
        ("USPS Priority Mail", Carrier.usps, "USPS"),
        ("U.S. Postal Service", Carrier.usps, "USPS"),
        ("FedEx Ground", Carrier.fedex, "FedEx"),
        ("Federal Express", Carrier.fedex, "FedEx"),
        ("fed-ex", Carrier.fedex, "FedEx"),
        ("DHL eCommerce", Carrier.dhl, "DHL"),
        ("OnTrac", Carrier.ontrac, "OnTrac"),
        ("Amazon Shipping", Carrier.amazon_shipping, "Amazon Shipping"),
        ("LaserShip", Carrier.lasership, "LaserShip"),
        ("Estes Freight", Carrier.other, "Estes Freight"),
        ("  ", Carrier.other, "Other"),
    ],
)
def test_a_warehouses_carrier_name_becomes_one_code(written: str, code: Carrier, name: str) -> None:
    carrier = identify_carrier(written)

    assert (carrier.code, carrier.name) == (code, name)


def test_a_known_carrier_gets_its_public_tracking_page_unless_the_warehouse_gave_one() -> None:
    assert (
        identify_carrier("UPS", "1Z999").tracking_url == "https://www.ups.com/track?tracknum=1Z999"
    )
    given = identify_carrier("UPS", "1Z999", "https://warehouse.example/t/1Z999")
    assert given.tracking_url == "https://warehouse.example/t/1Z999"


def test_an_unknown_carrier_keeps_the_warehouses_name_and_link() -> None:
    carrier = identify_carrier("Estes Freight", "PRO123", "https://estes.example/PRO123")

    assert carrier.code is Carrier.other
    assert carrier.name == "Estes Freight"
    assert carrier.tracking_url == "https://estes.example/PRO123"


def test_a_tracking_push_speaks_the_vocabulary() -> None:
    push = TrackingPush(
        idempotency_key="track:east:S-1",
        external_order_id="1001",
        carrier="Federal Express Home Delivery",
        tracking_number="7712",
        shipped_at=datetime(2026, 12, 1, tzinfo=UTC),
        lines=(),
        completes_order=True,
    )

    assert push.shipping_carrier.code is Carrier.fedex
    assert push.shipping_carrier.tracking_url == "https://www.fedex.com/fedextrack/?trknbr=7712"
