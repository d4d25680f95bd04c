"""The official BOLT vector files beside the checkout, for the guarded comparisons.

The tests read the vectors the project records under `vectors/`. Where the official copy lies
beside the checkout (`../shared/vectors/bolts`: unmodified files from lightning/bolts), the
comparisons with it run too; without it those comparisons skip, or read files rebuilt from the
records instead. This module is the only place a test names a path outside the checkout.
"""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "vectors" / "bolts"


def official(name: str) -> Path | None:
    """`name` in the official copy, or None where the copy (or that file) is not there."""
    path = SHARED / name
    return path if path.is_file() else None
