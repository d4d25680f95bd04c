"""Peeling one onion layer from raw bytes (BOLT 4 › Onion Decryption).

Input: node_key ‖ flags ‖ [path_key] ‖ ad_len ‖ associated_data ‖ packet (see `_peel`);
payment packets are cut or padded to 1366 bytes, onion-message packets are taken as they
are. Seeds are real packets with the key and associated data that peel them, so mutations
start past the MAC.
Invariants: totality (only framing, BadOnion or payload `DecodeError`s); a wrong version is
refused before the key and a bad key before the MAC; a peeled hop keeps the packet size,
forwards a well-formed packet and refuses the same packet with one bit flipped anywhere the
MAC covers (or in the key); deterministic; memory bounded by a constant plus O(len). A peeled
hop's payload then passes every hop-payload invariant for its role (payments: intermediate or
final, blinded when the input carries a path key) or the `onionmsg_tlv` ones (onion messages).

Mutator (`_mutate_onion.PeelRawMutator`): opens the layer with the input's own keys, mutates
the hop's frame (payload with its length, or the next HMAC, or the raw first bytes) and
re-seals it, so mutations get past the MAC; inputs past it are counted by `_mutate.depth`.
"""

import _common
import _mutate
import _peel
import fuzz_onionmsg_tlv
from _checks import check_payload
from _mutate_onion import PeelRawMutator

from sphinxamp import errors as errors
from sphinxamp._payload import Role
from sphinxamp.onion._sphinx import PeeledHop

ROLES = {(False, False): Role.INTERMEDIATE, (False, True): Role.FINAL,
         (True, False): Role.BLINDED_INTERMEDIATE, (True, True): Role.BLINDED_FINAL}


def _check_payload(inp: _peel.PeelInput, hop: PeeledHop) -> None:
    if inp.message:
        fuzz_onionmsg_tlv.test_one_input(hop.payload)
        return
    check_payload(hop.payload, ROLES[inp.path_key is not None, hop.next_packet is None])


def test_one_input(data: bytes) -> None:
    inp = _peel.split_input(data)
    if inp is None or not _peel.valid_secret(inp.node_key):
        return
    got = _peel.peel(inp)
    # Past the MAC: peeled, or refused for the frame the MAC let through.
    _mutate.depth(got.error is None or isinstance(got.error, errors.InvalidOnionPayload))
    if got.error is not None:
        err = got.error
        _peel.check_refusal(err)
        framed = len(inp.packet) == 1366 or (inp.message and len(inp.packet) >= 66)
        if framed and inp.packet[0] != 0:
            assert isinstance(err, errors.InvalidOnionVersion), type(err).__name__
        return
    _peel.check_peeled(inp, got.value)
    _check_payload(inp, got.value)


if __name__ == "__main__":
    _common.main(test_one_input, structured=PeelRawMutator())
