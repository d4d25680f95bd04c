"""Shared pytest configuration: hypothesis profiles, and the receiver fixtures.

Pick one with the environment variable HYPOTHESIS_PROFILE (default `ci`):

- `ci`   — sized so the whole suite stays well inside its time budget on two cores;
- `dev`  — quick local iteration;
- `deep` — thousands of examples per property, for a long soak before a release.

Failing examples are kept in `.hypothesis/` at the repository root (git-ignored) and replayed
first on the next run.

A test that uses pyln-proto (the differential peer) carries `@pytest.mark.pyln`: see
`pyln_compat.py` for when it is skipped and when, under `CI=true`, it fails instead.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from sphinxamp import Receiver
from sphinxamp.onion import MemoryReplayLog, ReplayLog, SqliteReplayLog
from sphinxamp.receiver import MemoryStore, SqliteStore, Store
from tests.pyln_compat import require_pyln

_DATABASE = DirectoryBasedExampleDatabase(
    str(Path(__file__).resolve().parent.parent / ".hypothesis" / "examples")
)

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    print_blob=True,
    database=_DATABASE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=20,
    deadline=None,
    print_blob=True,
    database=_DATABASE,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=5000,
    deadline=None,
    print_blob=True,
    database=_DATABASE,
    phases=tuple(Phase),
    verbosity=Verbosity.normal,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- the AMP receiver over each store (tests/test_receiver*.py) ----------------------------


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every receiver test runs on both stores: the in-memory twin and SQLite."""
    s: Store = MemoryStore() if request.param == "memory" else SqliteStore(
        str(tmp_path / "rx.db"))
    yield s
    s.close()


@pytest.fixture
def rx(store: Store) -> Receiver:
    """Spontaneous AMP and keysend on (lnd's accept-amp / accept-keysend)."""
    return Receiver(store, accept_amp=True, accept_keysend=True)


@pytest.fixture(params=["memory", "sqlite"])
def replay_log(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], ReplayLog]:
    """A replay log of either kind; calling it again gives the same log (memory) or reopens
    the same file (SQLite), as a restarted node would."""
    if request.param == "memory":
        log = MemoryReplayLog()
        return lambda: log
    return lambda: SqliteReplayLog(tmp_path / "r.db")


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Randomness seeded by the test's name: varied across tests, repeatable run to run."""
    return random.Random(request.node.name)


# --- the differential peer (pyln-proto) -----------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pyln: uses pyln-proto; skipped when it is missing or fails its check, "
        "failed instead under CI=true (pyln_compat.require_pyln)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # In the call phase, so that under CI=true the test is reported failed, not errored.
    if item.get_closest_marker("pyln") is not None:
        require_pyln()
