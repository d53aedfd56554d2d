"""Options of ``[suppliers.<name>.options]`` with ``type = "http"``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fbs_supplier_http.supplier import HttpSupplier, HttpSupplierOptions

GOOD = {
    "base_url": "https://api.acme.example/fbs/",
    "api_key": "wh_live_9c1f",
    "ship_from_zip": "75201",
}


def test_defaults_and_normalised_values():
    options = HttpSupplierOptions.model_validate({**GOOD, "currency": "usd"})

    assert options.base_url == "https://api.acme.example/fbs"
    assert (options.timeout, options.currency) == (10.0, "USD")
    assert "wh_live_9c1f" not in repr(options)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("ship_from_zip", "7520", "5-digit"),
        ("ship_from_zip", "75201-1234", "5-digit"),
        ("ship_from_zip", "ABCDE", "5-digit"),
        ("base_url", "ftp://acme.example", "http:// or https://"),
        ("base_url", "acme.example", "http:// or https://"),
        ("currency", "US", "ISO 4217"),
        ("timeout", 0, "greater than 0"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(field, value, says):
    with pytest.raises(ValidationError) as caught:
        HttpSupplierOptions.model_validate({**GOOD, field: value})

    assert says in str(caught.value)
    assert field in str(caught.value)


def test_an_unknown_option_is_refused():
    with pytest.raises(ValidationError, match="extra"):
        HttpSupplierOptions.model_validate({**GOOD, "shipfrom_zip": "75201"})


def test_the_adapter_accepts_a_plain_mapping_and_hides_the_key():
    supplier = HttpSupplier("east", GOOD)
    try:
        assert supplier.options.ship_from_zip == "75201"
        assert "wh_live_9c1f" not in repr(supplier)
        assert "wh_live_9c1f" not in repr(supplier.client)
    finally:
        supplier.close()
