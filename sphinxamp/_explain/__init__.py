"""`explain`: any Lightning onion-related bytes as an annotated field tree (offset, length,
raw bytes, meaning, parts), decrypted as far as the given keys allow, with the exact place
and rule of the first thing that does not parse.

Each kind is one function registered in `KINDS`; `auto` picks one from size and structure
(`GUESSES`, tried in order) and says why. Adding a kind is adding a function and an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sphinxamp._explain._failure import explain_attribution, explain_failure
from sphinxamp._explain._guess import guess_kind
from sphinxamp._explain._kinds import (
    Keys,
    explain_amp,
    explain_bigsize,
    explain_encrypted_data,
    explain_tlv,
)
from sphinxamp._explain._message import explain_wire_message
from sphinxamp._explain._onion import explain_onion, explain_payload_peeled
from sphinxamp._explain._tree import DecodeProblem, Explanation, Field
from sphinxamp.errors import InvalidArgument
from sphinxamp.primitives._nodekey import NodeKey
from sphinxamp.wire._records import PROFILES, TRAMPOLINE_PROFILES

EXPLAIN_PROFILES = (*PROFILES, *TRAMPOLINE_PROFILES)

Explainer = Callable[[bytes, Keys, Explanation], None]

KINDS: dict[str, Explainer] = {
    "onion": explain_onion,
    "payload": explain_payload_peeled,
    "tlv": explain_tlv,
    "failure": explain_failure,
    "encrypted-data": explain_encrypted_data,
    "message": explain_wire_message,
    "amp": explain_amp,
    "attribution": explain_attribution,
    "bigsize": explain_bigsize,
}
KIND_NAMES = (*KINDS, "auto")


def _check_key(value: bytes | None, size: int, field: str) -> None:
    if value is not None and len(value) != size:
        raise InvalidArgument(f"{field} must be {size} bytes, got {len(value)}", field=field,
                              reason="wrong_length")


def explain(data: bytes, kind: str = "auto", *, node_key: bytes | NodeKey | None = None,
            assoc_data: bytes | None = None, path_key: bytes | None = None,
            shared_secrets: Sequence[bytes] = (), payload_area: int | None = None,
            profile: str = "bolt") -> Explanation:
    """Explain `data` as `kind` (one of `KIND_NAMES`). Never raises for the bytes: what does
    not parse is the explanation's `error`; a bad argument raises `InvalidArgument`.

    Hop payloads are read under `profile`: "bolt" (BOLT 4 as written, the default), "lnd",
    or a trampoline format, "trampoline" (lightning/bolts#836) or "trampoline-legacy"
    (Eclair, Electrum), where a payload's trampoline onion is laid out and, with `node_key`
    and `assoc_data`, peeled; each record names the profile that defines it."""
    if profile not in EXPLAIN_PROFILES:
        raise InvalidArgument(f"unknown profile {profile!r}; one of "
                              f"{', '.join(EXPLAIN_PROFILES)}", field="profile",
                              reason="unknown_profile")
    if kind not in KIND_NAMES:
        raise InvalidArgument(f"unknown kind {kind!r}; one of {', '.join(KIND_NAMES)}",
                              field="kind", reason="unknown_kind")
    if isinstance(node_key, bytes | bytearray):
        _check_key(bytes(node_key), 32, "node_key")
    _check_key(path_key, 33, "path_key")
    for i, secret in enumerate(shared_secrets):
        _check_key(secret, 32, f"shared_secrets[{i}]")
    if payload_area is not None and not 0 <= payload_area <= 65535:
        raise InvalidArgument("payload_area must be 0 to 65535 bytes", field="payload_area",
                              reason="range")
    keys = Keys(node_key, assoc_data, path_key, tuple(shared_secrets), payload_area, profile)
    data = bytes(data)
    why = None
    if kind == "auto":
        kind, why = guess_kind(data, keys)
    ex = Explanation(kind, data, guess=why)
    KINDS[kind](data, keys, ex)
    return ex.finish()


__all__ = ["EXPLAIN_PROFILES", "KINDS", "KIND_NAMES", "DecodeProblem", "Explanation", "Field",
           "explain"]
