"""Peeling one onion layer from raw bytes (BOLT 4 › Onion Decryption).

Input: node_key ‖ flags ‖ [path_key] ‖ ad_len ‖ associated_data ‖ packet (see `_peel`);
payment packets are cut or padded to 1366 bytes, onion-message packets are taken as they
are. Seeds are real packets with the key and associated data that peel them, so mutations
start past the MAC.
Invariants: totality (only framing, BadOnion or payload `DecodeError`s); a wrong version is
refused before the key and a bad key before the MAC; a peeled hop keeps the packet size,
forwards a well-formed packet and refuses the same packet with one bit flipped anywhere the
MAC covers (or in the key); deterministic; memory bounded by a constant plus O(len).
"""

import _common
import _peel

from sphinxamp import errors as errors


def test_one_input(data: bytes) -> None:
    inp = _peel.split_input(data)
    if inp is None or not _peel.valid_secret(inp.node_key):
        return
    got = _peel.peel(inp)
    if got.error is not None:
        err = got.error
        _peel.check_refusal(err)
        framed = len(inp.packet) == 1366 or (inp.message and len(inp.packet) >= 66)
        if framed and inp.packet[0] != 0:
            assert isinstance(err, errors.InvalidOnionVersion), type(err).__name__
        return
    _peel.check_peeled(inp, got.value)


if __name__ == "__main__":
    _common.main(test_one_input)
