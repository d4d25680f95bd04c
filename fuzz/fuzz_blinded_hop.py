"""Blinded hop processing: `process_hop` at an introduction node whose
`encrypted_recipient_data` is the fuzzed plaintext (BOLT 4 › `payload` format, the reader).

Input: u64 incoming amount ‖ u32 incoming cltv_expiry ‖ the encrypted_data_tlv plaintext.
A two-hop blinded path (the fuzzed hop, then a fixed final hop) is built with fixed keys and
the introduction node processes the onion.
Invariants: a refusal is `InvalidOnionBlinding` (answered in update_fail_htlc: the node is the
introduction node and can encrypt an error) whose cause is the library's refusal of the data (a
`DecodeError` or a `PolicyError`); it is refused exactly when the plaintext does not decode,
breaks a reader rule (oracle from the BOLT text) or payment_constraints, or payment_relay takes
more than the HTLC holds; an accepted hop hands on the override or the derived path key and
forwards the amount and expiry of the BOLT formula (checked in exact rationals); deterministic.
A next_node_id naming the node itself makes the hop a dummy hop, peeled in place: here the next
layer is another node's, so it is refused.
"""

import _blinding_checks as ref
import _common

from sphinxamp._hop import process_hop
from sphinxamp.blinding._path import EncryptedData, create_blinded_path
from sphinxamp.blinding._unblind import build_blinded_payment_onion
from sphinxamp.errors import InvalidOnionBlinding


def _expect_ok(plaintext: bytes, amount: int, cltv: int) -> bool:
    plain = _common.call(EncryptedData.decode, plaintext)
    if plain.error is not None:
        return False
    data = plain.value
    if not ref.ref_reader_ok(data, final=False, payment=True):
        return False
    if data.next_node_id == ref.NODE_IDS[0]:
        # Its own id: a dummy hop (BOLT 4 › Route Blinding), peeled in place; the next layer
        # is the final hop's, which this node's key does not open.
        return False
    limits = data.payment_constraints
    if limits is not None and (cltv > limits.max_cltv_expiry
                               or amount < limits.htlc_minimum_msat):
        return False
    relay = data.payment_relay
    assert relay is not None
    return bool(amount >= relay.fee_base_msat and cltv >= relay.cltv_expiry_delta)


def test_one_input(data: bytes) -> None:
    if len(data) < 12:
        return
    amount, cltv = int.from_bytes(data[:8], "big"), int.from_bytes(data[8:12], "big")
    plaintext = data[12:]
    path = create_blinded_path(ref.PATH_SESSION, [(ref.NODE_IDS[0], plaintext),
                                                  (ref.NODE_IDS[1], ref.FINAL_DATA)])
    try:
        onion = build_blinded_payment_onion(ref.SESSION, ref.ASSOCIATED_DATA, path,
                                            amount_msat=1, cltv_expiry=1)
    except Exception:  # a plaintext too long for the 1300-byte onion is the writer's refusal
        return
    run = _common.call(process_hop, onion.to_bytes(), ref.NODE_KEYS[0], ref.ASSOCIATED_DATA,
                       incoming_amount_msat=amount, incoming_cltv_expiry=cltv)
    again = _common.call(process_hop, onion.to_bytes(), ref.NODE_KEYS[0], ref.ASSOCIATED_DATA,
                         incoming_amount_msat=amount, incoming_cltv_expiry=cltv)
    if run.error is None:
        assert run.value == again.value, "not deterministic"
    else:
        assert run.key() == again.key(), "not deterministic"
    if run.error is not None:
        err = run.error
        assert isinstance(err, InvalidOnionBlinding), type(err).__name__
        assert err.failure_message == "update_fail_htlc"
        assert _common.is_refusal(err.cause), type(err.cause).__name__
        assert not _expect_ok(plaintext, amount, cltv), f"refused: {err.cause}"
        return
    hop = run.value
    assert _expect_ok(plaintext, amount, cltv), "accepted what the reader must refuse"
    got = hop.encrypted_data
    assert got is not None and got.encode() == plaintext
    assert hop.amt_to_forward == ref.ref_forward(amount, got.payment_relay)
    assert hop.outgoing_cltv_value == cltv - got.payment_relay.cltv_expiry_delta
    if got.next_path_key_override is not None:
        assert hop.next_path_key == got.next_path_key_override


if __name__ == "__main__":
    _common.main(test_one_input)
