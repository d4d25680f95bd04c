"""Peeling with the MAC fixed up: fuzz bytes are the *decrypted* routing area, which the
harness encrypts with `rho` and authenticates with `mu` under fixed keys (bitcoinfuzz-style
re-MAC), so every mutation reaches the frame reader and the hop-payload parser.

Input: flags(1) ‖ plaintext hop_payloads. Flag bit 0: onion message (routing area = the
plaintext's length, no associated data, empty payloads allowed); otherwise a payment onion
(plaintext cut or zero-padded to 1300, associated data 32 × 0x42). Flag bit 1: the hop sits in
a blinded route (a fixed path key blinds the node key).
Invariants: accept/refuse exactly as a spec-literal frame reader over the plaintext; an accepted
hop's payload, next HMAC, next routing area (shifted plaintext ‖ keystream tail) and next
ephemeral key (E · SHA256(E ‖ ss), computed with coincurve) are exactly what BOLT 4 gives;
finality ⇔ all-zero next HMAC; the peeled payload then passes every hop-payload invariant for
its role (payments) or the TLV stream invariants (onion messages); plus everything
`_peel.check_peeled` asserts.
"""

import hashlib
import hmac

import _common
import _peel
import coincurve
import fuzz_tlv_stream
from _checks import check_payload, ref_bigsize
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms

from sphinxamp._payload import Role
from sphinxamp.errors import InvalidOnionPayload
from sphinxamp.onion._sphinx import PeeledHop

NODE_KEY = bytes([0x41] * 32)
SESSION_KEY = bytes([0x03] * 32)
PATH_SECRET = bytes([0x02] * 32)
EPHEMERAL = coincurve.PrivateKey(SESSION_KEY).public_key.format()
PATH_KEY = coincurve.PrivateKey(PATH_SECRET).public_key.format()
PAYMENT_AD = bytes([0x42] * 32)


def _blinded_node_key() -> bytes:
    ss = coincurve.PrivateKey(NODE_KEY).ecdh(PATH_KEY)
    factor = hmac.digest(b"blinded_node_id", ss, "sha256")
    scalar = int.from_bytes(NODE_KEY, "big") * int.from_bytes(factor, "big") % _peel.CURVE_ORDER
    return scalar.to_bytes(32, "big")


# Shared secret per blinding mode: fixed keys, so two ECDHs at import, none per input.
SECRETS = {
    False: coincurve.PrivateKey(NODE_KEY).ecdh(EPHEMERAL),
    True: coincurve.PrivateKey(_blinded_node_key()).ecdh(EPHEMERAL),
}


def _rho_cipher(ss: bytes) -> CipherContext:
    rho = hmac.digest(b"rho", ss, "sha256")
    return Cipher(algorithms.ChaCha20(rho, bytes(16)), None).encryptor()


def _keystream(ss: bytes, length: int) -> bytes:
    return _rho_cipher(ss).update(bytes(length))


def _seal(plain: bytes, blinded: bool, ad: bytes) -> bytes:
    ss = SECRETS[blinded]
    cipher = _rho_cipher(ss).update(plain)
    mac = hmac.digest(hmac.digest(b"mu", ss, "sha256"), cipher + ad, "sha256")
    return b"\x00" + EPHEMERAL + cipher + mac


def _expect_frame(plain: bytes, min_len: int) -> tuple[int, int] | None:
    """BOLT 4 › Onion Decryption steps 6-7 over the plaintext: (start, length) or None."""
    got = ref_bigsize(plain, 0)
    if isinstance(got, str):
        return None
    length, start = got
    if length < min_len or start + length + 32 > len(plain):
        return None
    return start, length


def _check_hop(plain: bytes, inp: _peel.PeelInput, blinded: bool, hop: PeeledHop) -> None:
    frame = _expect_frame(plain, 0 if inp.message else 2)
    assert frame is not None, "peeled a frame the spec refuses"
    start, length = frame
    end = start + length + 32
    assert hop.payload == plain[start:start + length], "payload differs from the plaintext"
    assert hop.payload_offset == start
    next_hmac = plain[start + length:end]
    assert (hop.next_packet is None) == (next_hmac == bytes(32)), "finality ≠ zero HMAC"
    if hop.next_packet is not None:
        ss = SECRETS[blinded]
        tail = _keystream(ss, len(plain) + end)[len(plain):]
        assert hop.next_packet.hop_payloads == plain[end:] + tail, "next routing area wrong"
        assert hop.next_packet.hmac == next_hmac
        factor = hashlib.sha256(EPHEMERAL + ss).digest()
        want = coincurve.PublicKey(EPHEMERAL).multiply(factor).format()
        assert hop.next_packet.public_key == want, "next ephemeral key is not E·H(E‖ss)"
    _peel.check_peeled(inp, hop)


def _check_payload(hop: PeeledHop, message: bool, blinded: bool) -> None:
    if message:
        fuzz_tlv_stream.test_one_input(hop.payload)
        return
    final = hop.next_packet is None
    role = {(False, False): Role.INTERMEDIATE, (False, True): Role.FINAL,
            (True, False): Role.BLINDED_INTERMEDIATE, (True, True): Role.BLINDED_FINAL}
    check_payload(hop.payload, role[blinded, final])


def test_one_input(data: bytes) -> None:
    if not data:
        return
    message, blinded = bool(data[0] & _peel.MESSAGE), bool(data[0] & _peel.BLINDED)
    plain = data[1:] if message else data[1:1301].ljust(1300, b"\x00")
    ad = b"" if message else PAYMENT_AD
    inp = _peel.PeelInput(NODE_KEY, message, PATH_KEY if blinded else None, ad,
                          _seal(plain, blinded, ad))
    got = _peel.peel(inp)
    if got.error is not None:
        assert isinstance(got.error, InvalidOnionPayload), (
            f"a correctly MACed packet was refused with {type(got.error).__name__}")
        assert _expect_frame(plain, 0 if message else 2) is None, "refused a valid frame"
        return
    _check_hop(plain, inp, blinded, got.value)
    _check_payload(got.value, message, blinded)


if __name__ == "__main__":
    _common.main(test_one_input)
