"""Where fbs ships: the 50 states and DC, plus territories and APO/FPO/DPO when enabled.

:func:`check_destination` decides, before any money moves, whether an order's ship-to
address is one fbs can send a warehouse to. A problem is either *final* (the order is
rejected: fbs will never ship there under the store's rules) or not (the order is held:
the merchant can correct the address on the channel, which fbs reconciles, or approve it).

The Freely Associated States (Micronesia ``FM``, Marshall Islands ``MH``, Palau ``PW``)
use USPS ZIP codes but are sovereign countries that ground carriers treat as
international, so they are always outside the United States here, whatever the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..domain import Address, FulfillmentRules
from .geo import zip5, zip_state

STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
"""The 50 states and DC: where fbs ships by default."""

TERRITORIES: dict[str, str] = {
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "U.S. Virgin Islands",
    "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
    "UM": "U.S. Minor Outlying Islands",
}
"""Inhabited and minor U.S. territories: shipped to only with ``ship_to_territories``."""

MILITARY: dict[str, str] = {
    "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe",
    "AP": "Armed Forces Pacific",
}
"""APO/FPO/DPO "state" codes: shipped to only with ``ship_to_military``."""

MILITARY_CITIES = frozenset({"APO", "FPO", "DPO"})

FREELY_ASSOCIATED: dict[str, str] = {
    "FM": "Micronesia",
    "MH": "Marshall Islands",
    "PW": "Palau",
}

_US_FORMS = frozenset({"US", "USA", "UNITEDSTATES", "UNITEDSTATESOFAMERICA", "AMERICA"})

_COUNTRY_NAMES: dict[str, str] = {
    "CA": "Canada", "MX": "Mexico", "GB": "United Kingdom", "UK": "United Kingdom",
    "DE": "Germany", "FR": "France", "AU": "Australia", "NZ": "New Zealand",
    "IE": "Ireland", "JP": "Japan", "BR": "Brazil", "IN": "India", "CN": "China",
    **FREELY_ASSOCIATED,
}  # fmt: skip

_REGION_BY_NAME: dict[str, str] = {
    _name.upper().replace(".", "").replace(" ", ""): _code
    for _table in (STATES, TERRITORIES, MILITARY, FREELY_ASSOCIATED)
    for _code, _name in _table.items()
}

REQUIRED_FIELDS: tuple[str, ...] = ("name", "line1", "city", "region", "postal_code")


@dataclass(frozen=True, slots=True)
class DestinationProblem:
    """Why fbs will not (yet) ship to an address.

    ``reason`` is the hold or rejection reason code stored on the order; ``message`` is the
    sentence the merchant reads; ``final`` is True when the order is rejected outright and
    False when it is held for the merchant to fix or approve.
    """

    reason: str
    message: str
    final: bool


def _squash(text: str) -> str:
    return re.sub(r"[\s.\-_]", "", text).upper()


def _text(value: str | None) -> str:
    return (value or "").strip()


def _blank(value: str | None) -> bool:
    return not _text(value)


def normalize_region(region: str | None) -> str | None:
    """Return the USPS code for a state or territory given as a code or a name, else None.

    ``"tx"``, ``" TX "``, ``"Texas"`` and ``"District of Columbia"`` all give the code;
    an unknown region gives None.
    """
    code = _text(region).upper()
    if not code:
        return None
    if code in STATES or code in TERRITORIES or code in MILITARY or code in FREELY_ASSOCIATED:
        return code
    return _REGION_BY_NAME.get(_squash(code))


def _country_code(country: str | None) -> str:
    """Return ``"US"`` for any spelling of the United States, else the country as given."""
    given = _text(country)
    if not given:
        return "US"  # channels that omit the country are domestic-only stores
    squashed = _squash(given)
    if squashed in _US_FORMS:
        return "US"
    named = _REGION_BY_NAME.get(squashed)
    if named in TERRITORIES or named in FREELY_ASSOCIATED:
        return named
    return given.upper() if len(squashed) == 2 else given


def _place(address: Address, country: str | None = None) -> str:
    parts = [_text(p) for p in (address.city, address.region) if not _blank(p)]
    if country:
        parts.append(country)
    return ", ".join(parts) if parts else "an address with no city or state"


def _fields_problem(
    address: Address | None, required: tuple[str, ...] = REQUIRED_FIELDS
) -> DestinationProblem | None:
    missing = (
        list(required)
        if address is None
        else [field for field in required if _blank(getattr(address, field))]
    )
    if not missing:
        return None
    labels = [field.replace("_", " ") for field in missing]
    what = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    if address is None:
        message = "The order has no shipping address; add one on the channel or approve it."
    else:
        message = f"The shipping address has no {what}; correct it on the channel."
    return DestinationProblem("missing_address_fields", message, final=False)


def check_destination(
    address: Address | None, rules: FulfillmentRules
) -> DestinationProblem | None:
    """Return why fbs cannot ship to ``address`` under ``rules``, or None when it can.

    Checks, in order (rejections first, since fixing a field would not help them):

    1. a country other than the United States → rejected ``non_us_destination``;
       a territory given as its own country (``country="PR"``) counts as that territory;
    2. APO/FPO/DPO (state ``AA``/``AE``/``AP`` or city ``APO``/``FPO``/``DPO``) → rejected
       ``military_not_enabled`` unless ``rules.ship_to_military``;
    3. PR, GU, VI, AS, MP, UM → rejected ``territory_not_enabled`` unless
       ``rules.ship_to_territories``;
    4. no address, or no name, line1, city, region or postal code → held
       ``missing_address_fields``;
    5. a state code fbs does not know → held ``invalid_region``;
    6. a ZIP that is not 5 digits (ZIP+4 is fine) → held ``invalid_postal_code``;
    7. a ZIP the ZIP database places in another state → held ``postal_code_state_mismatch``.

    A ZIP the database does not know passes: new ZIPs appear before the data is updated.
    """
    if address is None:
        return _fields_problem(None)

    country = _country_code(address.country)
    region = normalize_region(address.region)
    if country in TERRITORIES:
        region = country
    elif country != "US":
        name = _COUNTRY_NAMES.get(country, country)
        return DestinationProblem(
            "non_us_destination",
            f"Ships to {_place(address, name)}: fbs only ships within the United States.",
            final=True,
        )

    if region in FREELY_ASSOCIATED:
        return DestinationProblem(
            "non_us_destination",
            f"Ships to {_place(address)} ({FREELY_ASSOCIATED[region]}): fbs only ships "
            "within the United States.",
            final=True,
        )

    city = _squash(address.city or "")
    if (region in MILITARY or city in MILITARY_CITIES) and not rules.ship_to_military:
        return DestinationProblem(
            "military_not_enabled",
            f"Ships to a military address ({_place(address)}): APO/FPO/DPO shipping is off "
            "for this store (set ship_to_military to allow it).",
            final=True,
        )

    if region in TERRITORIES and not rules.ship_to_territories:
        return DestinationProblem(
            "territory_not_enabled",
            f"Ships to {_place(address)} in {TERRITORIES[region]}: shipping to U.S. "
            "territories is off for this store (set ship_to_territories to allow it).",
            final=True,
        )

    # A territory given as the country (Shopify's way) needs no separate region.
    required = REQUIRED_FIELDS
    if country in TERRITORIES:
        required = tuple(field for field in REQUIRED_FIELDS if field != "region")
    problem = _fields_problem(address, required)
    if problem is not None:
        return problem

    if region is None:
        return DestinationProblem(
            "invalid_region",
            f"The shipping address's state {address.region!r} is not a U.S. state code; "
            "correct it on the channel.",
            final=False,
        )

    postal = zip5(address.postal_code)
    if postal is None:
        return DestinationProblem(
            "invalid_postal_code",
            f"The shipping address's ZIP code {address.postal_code!r} is not a 5-digit ZIP; "
            "correct it on the channel.",
            final=False,
        )

    actual = zip_state(postal)
    if actual is not None and actual != region:
        return DestinationProblem(
            "postal_code_state_mismatch",
            f"ZIP code {postal} is in {actual}, not {region}; correct the state or the ZIP "
            "on the channel.",
            final=False,
        )
    return None
