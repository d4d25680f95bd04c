"""The differential peers, checked on one official vector before anything relies on them.

A peer is a package sphinxamp is compared with (pyln-proto today). Its own dependencies move
under it: cryptography 51 made pyln-proto's in-place ChaCha20 raise. So the benchmarks and the
tests first ask `check_pyln()`, which peels the first hop of the BOLT 4 onion vector recorded
in `vectors/bolt04-onion.json` with the peer and compares the result with the recorded one.
A failure is a short reason, shown in place of the peer's figures or as a test's skip reason.

This module is tooling beside the library (the library never imports it).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PYLN = "pyln-proto"
VECTOR = Path(__file__).resolve().parent.parent / "vectors" / "bolt04-onion.json"
PEEL_CASE = "peel-hop-1"
REASON_CHARS = 120
# Whose versions a benchmark figure depends on: ours, the peer's, and the primitives beneath.
STAMPED = ("sphinxamp", PYLN, "coincurve", "cryptography")


def _short(text: str) -> str:
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def _failure(exc: BaseException) -> str:
    return _short(f"{type(exc).__name__}: {exc}".strip())


def _peel_case(vector: Path) -> dict[str, Any]:
    cases = json.loads(vector.read_text(encoding="utf-8"))["cases"]
    case: dict[str, Any] = next(c for c in cases if c["id"] == PEEL_CASE)
    return case


def _pyln_peel(case: dict[str, Any]) -> tuple[bytes, bytes | None]:
    """The peer's peel of the case: (payload without its length prefix, next onion)."""
    from pyln.proto.onion import RoutingOnion
    from pyln.proto.primitives import PrivateKey

    onion = RoutingOnion.from_bin(bytes.fromhex(case["onion"]))
    payload, nxt = onion.unwrap(PrivateKey(bytes.fromhex(case["node_key"])),
                                bytes.fromhex(case["associated_data"]))
    return (bytes(payload.to_bytes(include_prefix=False)),
            None if nxt is None else bytes(nxt.to_bin()))


def check_pyln(vector: Path = VECTOR) -> str | None:
    """None when pyln-proto peels hop 1 of the BOLT 4 onion vector as recorded; otherwise
    why it cannot be used, in one short line."""
    try:
        case = _peel_case(vector)
        want = (bytes.fromhex(case["expect"]["payload"]),
                bytes.fromhex(case["expect"]["next_onion"]))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        return _short(f"the check's vector {vector.name} is unreadable ({_failure(exc)})")
    try:
        import pyln.proto.onion  # noqa: F401  (an absent peer is told apart from a broken one)
    except Exception as exc:  # a missing package, or a dependency that breaks its import
        return _short(f"not importable ({_failure(exc)})")
    try:
        got = _pyln_peel(case)
    except Exception as exc:  # the peer's own failure, whatever its type, is the reason
        return _failure(exc)
    if got != want:
        part = "payload" if got[0] != want[0] else "next onion"
        return f"wrong answer: its {part} differs from {vector.name} {PEEL_CASE}"
    return None


def version_of(package: str) -> str | None:
    """The installed distribution's version, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """What a benchmark run's figures depend on, so that a figure can be reproduced."""
    return {"python": platform.python_version(), **{p: version_of(p) for p in STAMPED}}
