import pytest

from fbs_core.domain import Address, FulfillmentRules
from fbs_core.sourcing.destinations import DestinationProblem, check_destination

DEFAULT = FulfillmentRules()
OPEN = FulfillmentRules(ship_to_territories=True, ship_to_military=True)


def address(**changes) -> Address:
    fields = {
        "name": "Dana Buyer",
        "line1": "100 Congress Ave",
        "city": "Austin",
        "region": "TX",
        "postal_code": "78701",
        "country": "US",
    }
    fields.update(changes)
    return Address(**fields)


def test_a_complete_address_in_a_state_ships():
    assert check_destination(address(), DEFAULT) is None


@pytest.mark.parametrize(
    "where",
    [
        {"city": "Washington", "region": "DC", "postal_code": "20001"},
        {"city": "Honolulu", "region": "HI", "postal_code": "96813"},
        {"city": "Anchorage", "region": "AK", "postal_code": "99501"},
        {"city": "Seattle", "region": "wa", "postal_code": "98101-1234"},
        {"city": "New York", "region": "New York", "postal_code": "10001"},
    ],
)
def test_states_and_dc_ship_by_default(where):
    assert check_destination(address(**where), DEFAULT) is None


@pytest.mark.parametrize("country", ["US", "us", "USA", "U.S.A.", "United States", None, ""])
def test_every_spelling_of_the_united_states_is_domestic(country):
    assert check_destination(address(country=country), DEFAULT) is None


def test_foreign_country_is_rejected_with_the_place_named():
    toronto = address(city="Toronto", region="ON", postal_code="M5V 2T6", country="CA")
    assert check_destination(toronto, OPEN) == DestinationProblem(
        "non_us_destination",
        "Ships to Toronto, ON, Canada: fbs only ships within the United States.",
        final=True,
    )


def test_unlisted_country_is_named_as_given():
    problem = check_destination(address(city="Oslo", region="", country="NO"), DEFAULT)
    assert problem.reason == "non_us_destination"
    assert problem.final
    assert "Oslo, NO" in problem.message


@pytest.mark.parametrize("region", ["FM", "MH", "PW"])
def test_freely_associated_states_are_abroad_even_with_territories_enabled(region):
    problem = check_destination(address(region=region, postal_code="96941"), OPEN)
    assert problem.reason == "non_us_destination"
    assert problem.final


@pytest.mark.parametrize(
    ("region", "zip_code", "name"),
    [
        ("PR", "00901", "Puerto Rico"),
        ("GU", "96910", "Guam"),
        ("VI", "00802", "U.S. Virgin Islands"),
        ("AS", "96799", "American Samoa"),
        ("MP", "96950", "Northern Mariana Islands"),
    ],
)
def test_territories_are_rejected_unless_enabled(region, zip_code, name):
    where = address(city="Town", region=region, postal_code=zip_code)
    problem = check_destination(where, DEFAULT)
    assert problem.reason == "territory_not_enabled"
    assert problem.final
    assert name in problem.message
    assert "ship_to_territories" in problem.message
    assert check_destination(where, FulfillmentRules(ship_to_territories=True)) is None


def test_territory_given_as_the_country_counts_as_that_territory():
    san_juan = address(city="San Juan", region=None, postal_code="00901", country="PR")
    assert check_destination(san_juan, DEFAULT).reason == "territory_not_enabled"
    assert check_destination(san_juan, FulfillmentRules(ship_to_territories=True)) is None
    named = address(city="San Juan", region="PR", postal_code="00901", country="Puerto Rico")
    assert check_destination(named, DEFAULT).reason == "territory_not_enabled"


@pytest.mark.parametrize(
    "where",
    [
        {"city": "APO", "region": "AE", "postal_code": "09001"},
        {"city": "FPO", "region": "AP", "postal_code": "96601"},
        {"city": "DPO", "region": "AA", "postal_code": "34001"},
        {"city": "a.p.o.", "region": "AE", "postal_code": "09001"},
        {"city": " fpo ", "region": "AP", "postal_code": "96601"},
        {"city": "Unit 2050 Box 4190", "region": "ae", "postal_code": "09001"},
    ],
)
def test_military_addresses_are_rejected_unless_enabled(where):
    problem = check_destination(address(**where), DEFAULT)
    assert problem.reason == "military_not_enabled"
    assert problem.final
    assert "ship_to_military" in problem.message
    assert check_destination(address(**where), FulfillmentRules(ship_to_military=True)) is None


def test_territory_permission_does_not_open_military_addresses():
    apo = address(city="APO", region="AE", postal_code="09001")
    rules = FulfillmentRules(ship_to_territories=True)
    assert check_destination(apo, rules).reason == "military_not_enabled"


def test_missing_address_is_held_not_rejected():
    problem = check_destination(None, DEFAULT)
    assert problem.reason == "missing_address_fields"
    assert not problem.final
    assert "no shipping address" in problem.message


def test_missing_fields_are_named():
    problem = check_destination(address(name=None, line1="  ", postal_code=""), DEFAULT)
    assert problem == DestinationProblem(
        "missing_address_fields",
        "The shipping address has no name, line1 and postal code; correct it on the channel.",
        final=False,
    )


@pytest.mark.parametrize("zip_code", ["7870", "787011", "ABCDE", "78701-12", "M5V 2T6"])
def test_malformed_zip_is_held(zip_code):
    problem = check_destination(address(postal_code=zip_code), DEFAULT)
    assert problem.reason == "invalid_postal_code"
    assert not problem.final
    assert repr(zip_code) in problem.message


def test_zip_plus_four_is_accepted():
    assert check_destination(address(postal_code="78701-4011"), DEFAULT) is None


def test_zip_in_another_state_is_held():
    problem = check_destination(address(postal_code="10001"), DEFAULT)
    assert problem == DestinationProblem(
        "postal_code_state_mismatch",
        "ZIP code 10001 is in NY, not TX; correct the state or the ZIP on the channel.",
        final=False,
    )


def test_zip_the_database_does_not_know_passes():
    assert check_destination(address(postal_code="78799"), DEFAULT) is None


@pytest.mark.parametrize("region", ["XX", "Tex", "ON"])
def test_unknown_state_is_held(region):
    problem = check_destination(address(region=region), DEFAULT)
    assert problem.reason == "invalid_region"
    assert not problem.final
    assert repr(region) in problem.message


def test_rejection_wins_over_fixable_problems():
    incomplete_abroad = Address(city="Toronto", country="Canada")
    assert check_destination(incomplete_abroad, DEFAULT).reason == "non_us_destination"
