"""The origin's decryption of a return packet (BOLT 4 › Returning Errors › Origin node), with
a fixed five-hop route (the shared secrets of onion-error-test.json).

Input: byte 0 picks the mode, the rest is the material.
- mode 0: the rest is a return packet received from the first hop;
- mode 1: byte 1 picks an erring hop, byte 2 a damaged hop (0–7; past the erring hop: no
  damage), the rest is a `failuremsg` the erring node sends back through the route;
- mode 2: the first 920 bytes (or fewer) are attribution data, the rest the packet.
Invariants: decryption never raises for packet or attribution bytes (an unverified packet is
unattributable, bad attribution data an `attribution_error`); a verified hop's message is
the one `FailureMessage.decode` gives for its bytes (or its error); in mode 1 the undamaged
packet names the erring hop with its exact message and every hop's attribution HMAC
verifies, and damage at hop k is blamed on hop k or its neighbour; deterministic.
Mutator (`_mutate_failure.FailureOnionMutator`): strips a received packet (mode 0, 2) down to
the erring hop, mutates its plaintext and re-creates and re-wraps it at a chosen hop, so
mutations pass the HMAC. Received packets are the layered inputs, counted by `_mutate.depth`
as past the outer check when a hop's HMAC verifies (mode 1 is sealed here anyway).
"""

import _common
import _mutate
from _mutate_failure import FailureOnionMutator

from sphinxamp.errors import DecodeError
from sphinxamp.failures._message import FailureMessage
from sphinxamp.failures._packet import (
    DecryptedFailure,
    create_failure,
    decrypt_failure,
    wrap_failure,
)

SECRETS = [bytes.fromhex(s) for s in (
    "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66",
    "a6519e98832a0b179f62123b3567c106db99ee37bef036e783263602f3488fae",
    "3a6b412548762f0dbccce5c7ae7bb8147d1caf9b5471c34120b30bc9c04891cc",
    "21e13c2d7cfe7e18836df50872466117a295783ab8aab0e7ecc8c725503ad02d",
    "b5756b9b542727dbafc6765a49488b023a725d631af688fc031217e90770c328",
)]
MAX_MESSAGE = 4096


def _check_result(result: DecryptedFailure) -> None:
    hop, raw = result.hop_index, result.failure_message
    if hop is None:
        assert result.message is None and raw is None
        return
    assert 0 <= hop < len(SECRETS)
    if raw is not None:
        want = _common.call(FailureMessage.decode, raw)
        assert (want.value, want.error is None) == (result.message, result.error is None)
    else:
        assert result.error is not None


def _summary(r: DecryptedFailure) -> tuple[object, ...]:
    """The result with its errors as their keys: exceptions compare by identity."""
    def err(exc: DecodeError | None) -> object:
        return None if exc is None else _common.error_key(exc)

    return (r.hop_index, r.message, r.failure_message, err(r.error), r.attribution,
            err(r.attribution_error))


def _relay(erring: int, damaged: int, message: bytes) -> None:
    reply = create_failure(SECRETS[erring], message, hold_time=erring + 1)
    for hop in range(erring, -1, -1):
        if hop < erring:
            reply = wrap_failure(SECRETS[hop], reply.packet, reply.attribution_data,
                                 hold_time=hop + 1)
        if hop == damaged:
            packet = bytearray(reply.packet)
            packet[len(message) % len(packet)] ^= 0x20
            reply = type(reply)(bytes(packet), reply.attribution_data)
    result = decrypt_failure(reply.packet, SECRETS, reply.attribution_data)
    _check_result(result)
    verdicts = [(a.hop_index, a.hold_time, a.hmac_ok) for a in result.attribution or ()]
    if damaged > erring:
        assert result.hop_index == erring and result.failure_message == message
        assert verdicts == [(i, i + 1, True) for i in range(erring + 1)]
        return
    assert result.hop_index is None, "a damaged packet still verified"
    bad = next(i for i, _, ok in verdicts if not ok)
    assert bad in (damaged - 1, damaged), f"damage at {damaged} blamed on {bad}"


def test_one_input(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    if mode == 1:
        if len(rest) < 2 or len(rest) - 2 > MAX_MESSAGE:
            return
        erring = rest[0] % len(SECRETS)
        _relay(erring, rest[1] % 8, rest[2:])
        return
    attribution = rest[:920] if mode == 2 else None
    if attribution is not None:
        rest = rest[920:]
    got = _common.bounded(len(data), decrypt_failure, rest, SECRETS, attribution,
                          base=256 * 1024)
    assert got.error is None, f"decryption raised {got.error!r}"
    _mutate.depth(got.value.hop_index is not None)
    again = decrypt_failure(rest, SECRETS, attribution)
    assert _summary(again) == _summary(got.value), "decryption is not deterministic"
    _check_result(got.value)
    if attribution is not None and len(attribution) != 920:
        assert got.value.attribution_error is not None


if __name__ == "__main__":
    _common.main(test_one_input, structured=FailureOnionMutator(SECRETS))
