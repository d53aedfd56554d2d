"""Named crash points for the crash tests (SCALE.md section 5).

``FBS_CRASH_AT`` names where the process kills itself with ``os._exit(137)``:

* ``after_effect`` — crash at that point every time it is reached;
* ``after_effect:0.2`` — crash there with probability 0.2;
* ``any:0.05`` — crash at every named point with probability 0.05.

``FBS_CRASH_SEED`` makes the random choices repeatable. Unset, every call is a no-op.
"""

from __future__ import annotations

import os
import random

CRASH_POINTS = (
    "after_poll_response",
    "before_intake_commit",
    "after_claim",
    "after_effect",
    "before_apply_commit",
    "after_apply_commit",
    "after_shipments_response",
)
"""Every place the pipeline may be told to die: between each side effect and its record."""

_spec = os.environ.get("FBS_CRASH_AT", "")
_random = random.Random(os.environ.get("FBS_CRASH_SEED"))


def _parse(spec: str) -> tuple[str, float]:
    name, _, probability = spec.partition(":")
    return name, float(probability) if probability else 1.0


_point, _probability = _parse(_spec) if _spec else ("", 0.0)


def crashpoint(name: str) -> None:
    """Kill the process here if ``FBS_CRASH_AT`` selects this point."""
    if not _point or (_point != name and _point != "any"):
        return
    if _random.random() < _probability:
        os._exit(137)
