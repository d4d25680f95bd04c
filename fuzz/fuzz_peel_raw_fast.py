"""Peeling one onion layer from raw bytes, fast checks (BOLT 4 › Onion Decryption).

Input and corpus: those of `fuzz_peel_raw.py` (`corpus/peel_raw/`, `_targets.py`):
node_key ‖ flags ‖ [path_key] ‖ ad_len ‖ associated_data ‖ packet (`_peel`), payment packets
cut or padded to 1366 bytes.
Invariants, one peel: totality (only framing, BadOnion or payload `DecodeError`s, with a
reason and an offset inside the packet); a wrong version is refused as such; a peeled hop
carries a payload and, when it forwards, a packet of the input's size with a non-zero HMAC
that serialises and parses back equal. Memory bound on one input in 1024 (`_fast`). Not here:
the second peel (determinism) and the peel of a copy with one bit flipped, each an ECDH
(`fuzz_peel_raw.py`).
"""

import _common
import _fast
import _peel

from sphinxamp import errors as errors
from sphinxamp.onion._sphinx import OnionPacket, peel_onion


def _body(data: bytes) -> None:
    inp = _peel.split_input(data)
    if inp is None or not _peel.valid_secret(inp.node_key):
        return
    try:
        hop = peel_onion(inp.packet, inp.node_key, inp.associated_data, **inp.kwargs())
    except _common.REFUSALS as exc:
        _fast.refused(exc, len(inp.packet), errors.DecodeError)
        _peel.check_refusal(exc)
        framed = len(inp.packet) == _peel.PAYMENT_SIZE or (
            inp.message and len(inp.packet) >= 66)
        if framed and inp.packet[0] != 0:
            assert isinstance(exc, errors.InvalidOnionVersion), type(exc).__name__
        return
    assert len(hop.payload) >= (0 if inp.message else 2)
    if hop.next_packet is not None:
        nxt = hop.next_packet.to_bytes()
        assert len(nxt) == len(inp.packet), "forwarded packet changed size"
        assert OnionPacket.parse(nxt, len(nxt) - 66) == hop.next_packet
        assert hop.next_packet.hmac != bytes(32)


test_one_input = _fast.harness(_body, "peel_raw_fast", base=_peel.PEEL_MEM_BASE)

if __name__ == "__main__":
    _common.main(test_one_input)
