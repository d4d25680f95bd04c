"""`decode_hop_payload`'s fast path (the generated decoder, the role rules as one mask test per
role, the payload built from the decoder's dictionary) against BOLT 4's reader rules stated
here from the text (04 › Packet Structure › `payload` format › Requirements, the reader's
side; 04 › Route Blinding for the blinded roles).

Every combination of the registry's records (2^10), each with one extra record or none (an
unknown odd type, a custom one, a well-known even custom one), at both positions and with every
path-key answer of the HTLC: a payload is accepted exactly when the rules below accept it, in
the role they give it, through the fast path alone; a refused one raises what the checked path
(`decode_payload` in that role) raises.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import sphinxamp._payload as payload_module
from sphinxamp._payload import HopPayload, Role, decode_hop_payload, decode_payload
from sphinxamp.errors import InvalidOnionPayload
from tests.strategies import ref_bigsize

# secp256k1's generator, compressed: a valid point for current_path_key (12).
G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
KEYSEND = 5482373484
# A valid value for every registry record (the codecs' bounds: tu64/tu32 of one byte, an
# 8-byte short_channel_id, payment_secret ‖ tu64, at least 16 bytes of blinded data, a point,
# share ‖ set_id ‖ tu32, any bytes, a 32-byte preimage).
VALID = {2: b"\x01", 4: b"\x01", 6: bytes(8), 8: bytes(32) + b"\x01", 10: bytes(16), 12: G,
         14: bytes(64) + b"\x01", 16: b"m", 18: b"\x01", KEYSEND: bytes(32)}
# Records outside the registry's typed ones: an unknown odd type (< 2^16), a custom odd type,
# a well-known even custom record (bLIP 3's keysend message).
EXTRAS = {33: b"", 65537: b"c", 7629168: b"hi"}


def expected_role(final: bool, types: set[int], path_key: bool | None) -> Role:
    """The role the hop's structure gives it: blinded when the HTLC brought a path key or the
    payload holds encrypted_recipient_data (04 › Route Blinding, reader)."""
    if path_key or 10 in types:
        return Role.BLINDED_FINAL if final else Role.BLINDED_INTERMEDIATE
    return Role.FINAL if final else Role.INTERMEDIATE


def bolt4_accepts(role: Role, types: set[int], path_key: bool | None) -> bool:
    """The reader's rules, from the text. Outside a blinded route: 2 and 4 required, 6 too at a
    forwarding hop, 10 and 12 refused. Inside: 10 required; a path key from the HTLC refuses
    12, none requires it (no answer: not judged); a forwarding hop allows only 10 and 12, the
    final hop only 2, 4, 10, 12, 18 and requires 2, 4 and 18."""
    if role in (Role.INTERMEDIATE, Role.FINAL):
        required = {2, 4, 6} if role is Role.INTERMEDIATE else {2, 4}
        return required <= types and not types & {10, 12}
    if path_key is not None and (12 in types) == path_key:
        return False
    if role is Role.BLINDED_INTERMEDIATE:
        return 10 in types and types <= {10, 12}
    return {2, 4, 10, 18} <= types and types <= {2, 4, 10, 12, 18}


def stream(types: list[int]) -> bytes:
    values = {**VALID, **EXTRAS}
    return b"".join(ref_bigsize(t) + ref_bigsize(len(values[t])) + values[t] for t in types)


def _refused(*_: Any) -> Any:
    raise AssertionError("a payload the rules accept left the fast path")


def test_every_record_combination_in_every_role(monkeypatch: pytest.MonkeyPatch) -> None:
    accepted = refused = 0
    for n in range(len(VALID) + 1):
        for chosen in itertools.combinations(sorted(VALID), n):
            for extra in ((), *((t,) for t in EXTRAS)):
                types = sorted({*chosen, *extra})
                raw = stream(types)
                for final, path_key in itertools.product((False, True), (None, False, True)):
                    role = expected_role(final, set(types), path_key)
                    if bolt4_accepts(role, set(types), path_key):
                        with monkeypatch.context() as m:
                            m.setattr(payload_module, "_decode", _refused)
                            got, got_role = decode_hop_payload(
                                raw, final=final, path_key_from_htlc=path_key)  # type: ignore[arg-type]
                        assert got_role is role
                        assert got.present_types() == set(types)
                        assert got.encode() == raw
                        accepted += 1
                        continue
                    with pytest.raises(InvalidOnionPayload) as fast:
                        decode_hop_payload(raw, final=final,
                                           path_key_from_htlc=path_key)  # type: ignore[arg-type]
                    with pytest.raises(InvalidOnionPayload) as checked:
                        decode_payload(raw, role, path_key_from_htlc=path_key)
                    assert (fast.value.reason, fast.value.tlv_type, fast.value.offset) == (
                        checked.value.reason, checked.value.tlv_type, checked.value.offset)
                    refused += 1
    assert accepted > 200 and refused > 10_000  # both sides of every rule were reached


def test_values_and_records_kept_unparsed_come_out_in_place() -> None:
    """The payload built from the decoder's dictionary holds the values and splits the records
    kept unparsed by range (odd unknown < 2^16, custom ≥ 2^16), in wire order."""
    raw = stream([2, 4, 8, 33, 65537])
    got, role = decode_hop_payload(raw, final=True, path_key_from_htlc=False)
    assert role is Role.FINAL
    assert (got.amt_to_forward, got.outgoing_cltv_value) == (1, 1)
    assert got.payment_data is not None and got.payment_data.total_msat == 1
    assert [(r.type, r.value) for r in got.unknown_records] == [(33, b"")]
    assert [(r.type, r.value) for r in got.custom_records] == [(65537, b"c")]
    assert got.short_channel_id is None and got.amp is None  # the class defaults stand
    assert got == HopPayload(1, 1, payment_data=got.payment_data,
                             custom_records=got.custom_records,
                             unknown_records=got.unknown_records)


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_any_bytes_like_input_decodes_as_bytes(wrap: Any) -> None:
    raw = stream([2, 4, 6])
    assert decode_hop_payload(wrap(raw), final=False, path_key_from_htlc=False) == \
        decode_hop_payload(raw, final=False, path_key_from_htlc=False)
