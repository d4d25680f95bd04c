"""AMP (14), MPP (8) and keysend (5482373484) records, alone and inside final payloads.

Input: byte 0 picks the mode. Modes 0–2 wrap the rest as the value of one AMP / MPP / keysend
record (type ‖ BigSize length ‖ value) and decode it; mode 3 reads the rest as a whole final
hop payload.
Invariants, records: accept or refuse exactly as lnd's decoders (record/amp.go, record/mpp.go:
lengths 64..68 and 32..40, truncated integers minimal; keysend exactly 32 bytes), written out
below without the library; a refusal names the record's type, points at its first byte and
gives lnd's reason; an accepted record carries the bytes it was read from and re-encodes to
the input. Invariants, payloads: the AMP-without-MPP asymmetry holds (parsed, then refused
by the builder with `amp_without_mpp`, and a payload with both builds); `verify_keysend`
raises nothing but `PaymentError` and returns the preimage only for its own hash; custom
records are described without raising, as strict JSON; deterministic; memory O(len).
"""

import hashlib
import json

import _common

from sphinxamp._payload import KEYSEND_TYPE, HopPayload, decode_payload
from sphinxamp.cli import _custom_records as custom_records
from sphinxamp.errors import EncodeError, InvalidOnionPayload, PaymentError
from sphinxamp.payments._keysend import verify_keysend
from sphinxamp.payments._route import build_route_onion
from sphinxamp.primitives._crypto import public_key
from sphinxamp.wire._bigsize import encode_bigsize

DEST = public_key(b"\x07" * 32)
SESSION_KEY = b"\x41" * 32
# (type, field, fixed bytes before the truncated integer, its width; None: fixed size)
# The keysend record is opaque to lnd's onion parser (any length): fixed None.
RECORDS = ((14, "amp", 64, 4), (8, "payment_data", 32, 8),
           (KEYSEND_TYPE, "keysend_preimage", None, None))


def lnd_record(value: bytes, fixed: int | None, width: int | None) -> tuple[bytes, int] | str:
    """(fixed part, integer) as lnd reads the record, or lnd's reason for refusing it."""
    if fixed is None:
        return value, 0
    top = fixed + (width or 0)
    if len(value) < fixed:
        return "length_below_fixed_size"
    if len(value) > top:
        return "length_above_fixed_size"
    tail = value[fixed:]
    if tail[:1] == b"\x00":
        return "truncated_int_not_minimal"
    return value[:fixed], int.from_bytes(tail, "big")


def _as_wire(field: str, got: object) -> tuple[bytes, int]:
    if field == "amp":
        return got.root_share + got.set_id, got.child_index  # type: ignore[attr-defined]
    if field == "payment_data":
        return got.payment_secret, got.total_msat  # type: ignore[attr-defined]
    return bytes(got), 0  # type: ignore[call-overload]


def check_record(mode: int, value: bytes) -> None:
    rtype, field, fixed, width = RECORDS[mode]
    data = encode_bigsize(rtype) + encode_bigsize(len(value)) + value
    got = _common.deterministic(len(data), decode_payload, data)
    want = lnd_record(value, fixed, width)
    if got.error is not None:
        err = got.error
        assert isinstance(err, InvalidOnionPayload), type(err).__name__
        assert err.reason == want, f"{field}: refused with {err.reason}, lnd says {want}"
        assert (err.tlv_type, err.offset) == (rtype, 0), (err.tlv_type, err.offset)
        return
    assert not isinstance(want, str), f"{field}: accepted what lnd refuses ({want})"
    assert _as_wire(field, getattr(got.value, field)) == want
    assert got.value.encode() == data, "record does not re-encode to its bytes"


def _check_amp_build(payload: HopPayload) -> None:
    if payload.amp is None or payload.amt_to_forward is None or (
            payload.outgoing_cltv_value is None):
        return
    payment_hash = hashlib.sha256(payload.encode()).digest()
    try:
        build_route_onion(DEST, (), payload, payment_hash, SESSION_KEY)
    except EncodeError as exc:
        if payload.payment_data is None:
            assert exc.reason == "amp_without_mpp", exc.reason
        else:
            # A payload too large for the packet is the only other way the builder refuses.
            assert exc.reason == "route_too_long", exc.reason
        return
    assert payload.payment_data is not None, "built an AMP shard without its MPP record"


def _check_keysend(payload: HopPayload) -> None:
    preimage = payload.keysend_preimage
    for payment_hash in (bytes(32), hashlib.sha256(preimage or b"").digest()):
        try:
            got = verify_keysend(payload, payment_hash)
        except PaymentError as exc:
            assert exc.reason and exc.failure_code == 0x4000 | 15
            continue
        assert got == preimage and hashlib.sha256(got).digest() == payment_hash
        assert payload.amp is None and payload.payment_data is None


def check_payload(data: bytes) -> None:
    got = _common.deterministic(len(data), decode_payload, data, "final")
    if got.error is not None:
        assert isinstance(got.error, InvalidOnionPayload), type(got.error).__name__
        return
    payload = got.value
    _check_amp_build(payload)
    _check_keysend(payload)
    shown = custom_records.describe_all(payload.custom_records)
    json.dumps(shown, allow_nan=False)
    assert [d["type"] for d in shown] == [r.type for r in payload.custom_records]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode = data[0] % 4
    if mode < 3:
        check_record(mode, data[1:])
    else:
        check_payload(data[1:])


if __name__ == "__main__":
    _common.main(test_one_input)
