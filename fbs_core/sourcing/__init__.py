"""Where an order can go and where it should come from: pure functions, no I/O.

* :mod:`.destinations`: whether fbs ships to an address (:func:`check_destination`);
* :mod:`.geo`: ZIP code states, locations and distances;
* :mod:`.shipping`: the default ground-parcel shipping estimate;
* :mod:`.tax`: the default tax estimate;
* :mod:`.plan`: the default sourcing plan (:func:`choose_plan`).

The pipeline reaches the defaults through the decision hooks, so plugins can replace them;
see :mod:`fbs_core.default_plugins.decisions`.
"""

from __future__ import annotations

from .destinations import DestinationProblem, check_destination, normalize_region
from .geo import distance_miles, zip_location, zip_state
from .plan import MAX_SPLIT_COMBINATIONS, choose_plan, format_money
from .shipping import estimate_shipping, shipping_table_markdown
from .tax import estimate_tax

__all__ = [
    "MAX_SPLIT_COMBINATIONS",
    "DestinationProblem",
    "check_destination",
    "choose_plan",
    "distance_miles",
    "estimate_shipping",
    "estimate_tax",
    "format_money",
    "normalize_region",
    "shipping_table_markdown",
    "zip_location",
    "zip_state",
]
