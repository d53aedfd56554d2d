from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fbs_core.engine import Engine
from fbs_core.testing import fakes
from fbs_core.testing.harness import basic_config, build_engine
from fbs_core.testing.ledger import EffectLedger, forget_shared_ledgers, shared_ledger


@pytest.fixture(autouse=True)
def _fresh_fakes() -> Iterator[None]:
    fakes.reset()
    forget_shared_ledgers()
    yield
    fakes.reset()
    forget_shared_ledgers()


@pytest.fixture
def ledger() -> EffectLedger:
    """The effects the fake plugins performed in this test."""
    return shared_ledger("default")


@pytest.fixture
def make_engine(fbs_database_url: str) -> Iterator[Callable[..., Engine]]:
    """Build an engine on this test's database: ``make_engine(config=None, **fulfillment)``."""
    engines: list[Engine] = []

    def build(
        config: dict[str, Any] | None = None, modules: tuple[str, ...] = (), **fulfillment: Any
    ) -> Engine:
        engine = build_engine(
            fbs_database_url,
            config or basic_config(**fulfillment),
            modules=(*modules, "fbs_core.testing.fakes"),
        )
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.stop()
        engine.db.dispose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a scenario that runs real broker processes for a minute or more"
    )


@pytest.fixture
def crash_seed() -> int:
    """The seed of a crash test's random kills; ``FBS_CRASH_SEED`` replays a run."""
    seed = int(os.environ.get("FBS_CRASH_SEED") or random.randrange(1 << 30))
    print(f"crash test seed: FBS_CRASH_SEED={seed}")
    return seed
