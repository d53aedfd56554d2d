"""US ZIP codes: which state a ZIP belongs to, where it is, and how far apart two ZIPs are.

Backed by the ``zipcodes`` package's bundled data. ``zipcodes.matching`` scans its whole
list on every call (about 0.4 ms each, plus ~0.2 s to load the data on the first call), so
this module builds one dictionary index from that list the first time it is needed and
answers every later lookup from it in constant time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

EARTH_RADIUS_MILES = 3958.8
"""Mean Earth radius used by the haversine formula."""

_ZIP_RE = re.compile(r"^(\d{5})(?:[- ]?\d{4})?$")


@dataclass(frozen=True, slots=True)
class ZipInfo:
    """What fbs needs to know about one five-digit ZIP code."""

    zip_code: str
    state: str
    """USPS state or territory code, including ``AA``/``AE``/``AP`` for military ZIPs."""
    city: str
    location: tuple[float, float] | None
    """``(latitude, longitude)`` in degrees; None where the data has no coordinates."""


def zip5(zip_code: str | None) -> str | None:
    """Return the five-digit ZIP of ``"78701"``, ``"78701-1234"`` or ``"787011234"``.

    Surrounding whitespace is ignored. Anything else (letters, too few digits, a Canadian
    postal code) gives None.
    """
    if zip_code is None:
        return None
    match = _ZIP_RE.match(zip_code.strip())
    return match.group(1) if match else None


def _coordinates(record: dict[str, object]) -> tuple[float, float] | None:
    try:
        lat = float(str(record["lat"]))
        lon = float(str(record["long"]))
    except (KeyError, ValueError):
        return None
    # Military and some PO-box-only ZIPs carry "0"/"0" rather than no coordinates.
    if lat == 0.0 and lon == 0.0:
        return None
    return (lat, lon)


@lru_cache(maxsize=1)
def _index() -> dict[str, ZipInfo]:
    index: dict[str, ZipInfo] = {}
    for record in zipcodes.list_all():
        code = str(record["zip_code"])
        index[code] = ZipInfo(
            zip_code=code,
            state=str(record["state"]),
            city=str(record.get("city", "")),
            location=_coordinates(record),
        )
    return index


def zip_info(zip_code: str | None) -> ZipInfo | None:
    """Return what the ZIP database knows about ``zip_code`` (ZIP+4 accepted), or None."""
    code = zip5(zip_code)
    return _index().get(code) if code else None


def zip_state(zip_code: str | None) -> str | None:
    """Return the USPS state code a ZIP belongs to, or None for an unknown or malformed ZIP."""
    info = zip_info(zip_code)
    return info.state if info else None


@lru_cache(maxsize=65536)
def zip_location(zip_code: str) -> tuple[float, float] | None:
    """Return ``(latitude, longitude)`` of a ZIP's centroid (ZIP+4 accepted), or None."""
    info = zip_info(zip_code)
    return info.location if info else None


def haversine_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance in miles between two ``(lat, lon)`` points."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def distance_miles(zip_a: str | None, zip_b: str | None) -> float | None:
    """Return the great-circle distance in miles between two ZIPs' centroids.

    None when either ZIP is missing, malformed, unknown, or has no coordinates (military
    ZIPs): callers treat an unknown distance as "as far as it gets".
    """
    if not zip_a or not zip_b:
        return None
    here = zip_location(zip_a)
    there = zip_location(zip_b)
    if here is None or there is None:
        return None
    return haversine_miles(here, there)
