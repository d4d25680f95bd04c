"""Oracles the harnesses compare the library against.

They are written from the BOLT text, line by line and deliberately slow, so that they share no
code (and so no bug) with the decoders under test.
"""

from __future__ import annotations

from typing import Any

import _common
import coincurve
from _common import Outcome

from sphinxamp._payload import Role, decode_payload, validate_role
from sphinxamp.errors import InvalidOnionPayload

U64_MAX = (1 << 64) - 1


def is_point(raw: bytes) -> bool:
    """A 33-byte compressed secp256k1 point (BOLT 1 › Fundamental Types, `point`), judged by
    coincurve's own parser."""
    if len(raw) != 33 or raw[0] not in (2, 3):
        return False
    try:
        coincurve.PublicKey(raw)
    except ValueError:
        return False
    return True


def ref_bigsize(data: bytes, pos: int) -> tuple[int, int] | str:
    """BOLT 1 › Appendix A: (value, next position), or 'truncated' / 'not_minimal' / 'empty'."""
    if pos >= len(data):
        return "empty"
    first = data[pos]
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first, 0)
    if width == 0:
        return first, pos + 1
    if pos + 1 + width > len(data):
        return "truncated"
    value = int.from_bytes(data[pos + 1 : pos + 1 + width], "big")
    if value < {2: 0xFD, 4: 0x10000, 8: 0x100000000}[width]:
        return "not_minimal"
    return value, pos + 1 + width


def ref_stream(data: bytes) -> list[tuple[int, bytes]] | str:
    """BOLT 1 › TLV reader requirements, in the order the spec lists them; failures are named
    like the Appendix B vectors."""
    out: list[tuple[int, bytes]] = []
    pos, last = 0, -1
    while pos < len(data):
        got = ref_bigsize(data, pos)
        if isinstance(got, str):
            return "type_" + got
        rtype, pos = got
        if rtype <= last:
            return "duplicate_type" if rtype == last else "not_strictly_increasing"
        got = ref_bigsize(data, pos)
        if isinstance(got, str):
            return "length_missing" if got == "empty" else "length_" + got
        length, pos = got
        if pos + length > len(data):
            return "value_missing" if pos == len(data) else "value_truncated"
        out.append((rtype, data[pos : pos + length]))
        pos += length
        last = rtype
    return out


# BOLT 4 › `payload` format, reader requirements: what each role MUST carry, and (for blinded
# hops) the only records it may carry at all.
_REQUIRED = {
    Role.INTERMEDIATE: {2, 4, 6},
    Role.FINAL: {2, 4},
    Role.BLINDED_INTERMEDIATE: {10},
    Role.BLINDED_FINAL: {2, 4, 10, 18},
}
_ONLY = {
    Role.BLINDED_INTERMEDIATE: {10, 12},
    Role.BLINDED_FINAL: {2, 4, 10, 12, 18},
}
_ROLE_REASONS = {"record_included", "record_omitted"}
# Failures of the stream's framing: their offset points inside a record, not at its start.
STRUCTURAL_REASONS = {"type_truncated", "type_not_minimal", "length_missing", "length_truncated",
               "length_not_minimal", "value_missing", "value_truncated", "duplicate_type",
               "not_strictly_increasing"}


def _check_accepted_role(payload: Any, role: Role, path_key_from_htlc: bool | None) -> None:
    present = payload.present_types()
    missing = _REQUIRED[role] - present
    assert not missing, f"{role.value} accepted without records {sorted(missing)}"
    if role in _ONLY:
        extra = present - _ONLY[role]
        assert not extra, f"{role.value} accepted with records {sorted(extra)}"
        if path_key_from_htlc is not None:
            # The path key comes from exactly one place: the HTLC or the payload.
            assert (12 in present) != path_key_from_htlc, "path key presence not enforced"
    else:
        assert not present & {10, 12}, f"{role.value} accepted blinded-route records"
    validate_role(payload, role, path_key_from_htlc)


def _check_role(data: bytes, plain: Outcome, role: Role, pk: bool | None) -> None:
    got = _common.deterministic(len(data), decode_payload, data, role, path_key_from_htlc=pk)
    if plain.error is not None:
        # Role rules run after the TLV decode: a stream error must come out unchanged.
        assert got.error is not None, f"{role.value} accepted what the plain decode refused"
        assert _common.error_key(got.error) == _common.error_key(plain.error)
        return
    if got.error is None:
        assert got.value == plain.value, f"{role.value} decode differs from the plain decode"
        _check_accepted_role(got.value, role, pk)
        return
    err = got.error
    assert isinstance(err, InvalidOnionPayload), f"role failure is {type(err).__name__}"
    assert err.reason in _ROLE_REASONS, f"unexpected role failure reason {err.reason}"
    _common.check_points_at_record(err, data)
    # The payload re-encodes to `data`, so validating the decoded value reports the same spot.
    again = _common.call(validate_role, plain.value, role, pk)
    assert again.error is not None and _common.error_key(again.error) == _common.error_key(err)


def check_payload(data: bytes, role: Role) -> Outcome:
    """All payload invariants for `data` read as a hop payload of `role`."""
    plain = _common.deterministic(len(data), decode_payload, data)
    if plain.error is not None:
        err = plain.error
        assert isinstance(err, InvalidOnionPayload), f"payload failure is {type(err).__name__}"
        assert err.failure_code == 0x4000 | 22
        if err.reason not in STRUCTURAL_REASONS:
            _common.check_points_at_record(err, data)
    else:
        payload = plain.value
        encoded = payload.encode()
        assert encoded == data, f"payload round trip: {data.hex()} -> {encoded.hex()}"
        assert decode_payload(encoded) == payload
        str(payload)
        repr(payload)
    choices: tuple[bool | None, ...] = (None, True, False) if role.blinded else (None,)
    for pk in choices:
        _check_role(data, plain, role, pk)
    return plain
