"""Onion packet framing (BOLT 4 › Packet Structure), without any cryptography.

Input: the packet bytes, parsed twice: as a 1366-byte payment onion (payload area 1300) and
with the payload area implied by the length (onion messages).
Invariants: refusals are `DecodeError`s, checked in the spec's order (size, then version
→ invalid_onion_version, then key → invalid_onion_key) and agreeing with what the bytes show
(coincurve's own parser judges the key); an accepted packet serialises back to exactly the
input, has version 0, a 33-byte key, a 32-byte HMAC and the expected payload area;
deterministic; memory O(len).
"""

import _checks
import _common

from sphinxamp import errors as errors
from sphinxamp.onion._sphinx import OnionPacket

_FIXED = 1 + 33 + 32


def _expect(data: bytes, area: int | None) -> type[errors.DecodeError] | None:
    """The refusal BOLT 4 › Onion Decryption prescribes for these bytes, or None."""
    if (area is None and len(data) < _FIXED) or (area is not None and len(data) != _FIXED + area):
        return errors.DecodeError
    if data[0] != 0:
        return errors.InvalidOnionVersion
    return None if _checks.is_point(data[1:34]) else errors.InvalidOnionKey


def _check(data: bytes, area: int | None) -> None:
    got = _common.deterministic(len(data), OnionPacket.parse, data, area)
    want = _expect(data, area)
    if got.error is not None:
        assert want is not None, f"refused a well-formed packet: {got.error.reason}"
        assert type(got.error) is want, f"{type(got.error).__name__}, expected {want.__name__}"
        if want is not errors.DecodeError:
            assert got.error.failure_code == want.failure_code
        return
    assert want is None, f"accepted a packet that deserves {want.__name__}"
    packet = got.value
    assert packet.to_bytes() == data, "packet round trip is not exact"
    assert len(packet) == len(data) and packet.version == 0
    assert len(packet.public_key) == 33 and len(packet.hmac) == 32
    assert packet.payload_area == (len(data) - _FIXED if area is None else area)
    assert OnionPacket.parse(packet.to_bytes(), packet.payload_area) == packet


def test_one_input(data: bytes) -> None:
    _check(data, 1300)
    _check(data, None)


if __name__ == "__main__":
    _common.main(test_one_input)
