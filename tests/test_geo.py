import pytest

from fbs_core.sourcing.geo import distance_miles, zip5, zip_location, zip_state


def test_zip_location_is_the_zip_centroid():
    lat, lon = zip_location("78701")
    assert lat == pytest.approx(30.27, abs=0.05)
    assert lon == pytest.approx(-97.74, abs=0.05)


def test_zip_plus_four_locates_like_its_five_digit_zip():
    assert zip_location("78701-1234") == zip_location("78701")
    assert zip_location("787011234") == zip_location("78701")
    assert zip_location(" 78701 ") == zip_location("78701")


@pytest.mark.parametrize("code", ["00000", "ABCDE", "7870", "M5V 2T6", ""])
def test_unknown_or_malformed_zip_has_no_location(code):
    assert zip_location(code) is None


def test_military_zip_has_no_location_rather_than_null_island():
    assert zip_state("09001") == "AE"
    assert zip_location("09001") is None


def test_zip_state_knows_states_dc_and_territories():
    assert zip_state("07102") == "NJ"
    assert zip_state("20001") == "DC"
    assert zip_state("00901") == "PR"
    assert zip_state("99999") is None


def test_zip5_normalizes_the_accepted_forms():
    assert zip5("10001-0001") == "10001"
    assert zip5("10001 0001") == "10001"
    assert zip5("1000") is None
    assert zip5(None) is None


def test_newark_to_manhattan_is_a_short_hop():
    assert distance_miles("07102", "10001") == pytest.approx(9, abs=3)


def test_new_york_to_los_angeles_is_coast_to_coast():
    # Great-circle NYC-LA is about 2,450 miles.
    assert distance_miles("10001", "90001") == pytest.approx(2450, abs=40)


def test_distance_is_symmetric_and_zero_to_itself():
    assert distance_miles("60601", "98101") == pytest.approx(distance_miles("98101", "60601"))
    assert distance_miles("60601", "60601") == 0


@pytest.mark.parametrize(
    ("a", "b"), [("07102", None), (None, "07102"), ("07102", "00000"), ("07102", "09001")]
)
def test_distance_is_unknown_when_either_end_is_unknown(a, b):
    assert distance_miles(a, b) is None
