"""BOLT 4's primitives (04-onion-routing.md › Key Generation, › Pseudo Random Byte Stream)
against values the spec publishes, written here by hand so the code under test computes none
of the expected side:

- rho and mu of the five hops: the Test Vector's "Wrapping the Onion" section
  (`rhokey[i]`, `mukey[i]`) as 04-onion-routing.md printed it until lightning/bolts
  commit 3be749c moved the vectors to JSON (read at its parent, 2bff8e5f);
- um, ammag and the ammag streams: bolt04/onion-error-test.json and the same text's
  "Returning Errors" vector (`um_key`, `ammag_key`, `stream`);
- rho of a blinding secret and the blinded node id: bolt04/route-blinding-test.json (Bob);
- pad of hop 0's secret: pyln-proto's `test_generate_keyset` (Core Lightning,
  contrib/pyln-proto/tests/test_onion.py), which derives every key type from that secret.
"""

from __future__ import annotations

import pytest

from sphinxamp.errors import InvalidSecret
from sphinxamp.primitives import (
    KEY_AMMAG,
    KEY_AMMAGEXT,
    KEY_BLINDED_NODE_ID,
    KEY_MU,
    KEY_PAD,
    KEY_RHO,
    KEY_UM,
    chacha20,
    chacha20_stream,
    derive_key,
    hmac_sha256,
    scalar_mul,
    sha256,
)
from sphinxamp.primitives._crypto import parse_point, point_mul, serialize_point, xor

# hop_shared_secret[0..4] of the BOLT 4 test vector (session key 0x41…41).
SECRETS = [
    "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66",
    "a6519e98832a0b179f62123b3567c106db99ee37bef036e783263602f3488fae",
    "3a6b412548762f0dbccce5c7ae7bb8147d1caf9b5471c34120b30bc9c04891cc",
    "21e13c2d7cfe7e18836df50872466117a295783ab8aab0e7ecc8c725503ad02d",
    "b5756b9b542727dbafc6765a49488b023a725d631af688fc031217e90770c328",
]
RHO = [
    "ce496ec94def95aadd4bec15cdb41a740c9f2b62347c4917325fcc6fb0453986",
    "450ffcabc6449094918ebe13d4f03e433d20a3d28a768203337bc40b6e4b2c59",
    "11bf5c4f960239cb37833936aa3d02cea82c0f39fd35f566109c41f9eac8deea",
    "cbe784ab745c13ff5cffc2fbe3e84424aa0fd669b8ead4ee562901a4a4e89e9e",
    "034e18b8cc718e8af6339106e706c52d8df89e2b1f7e9142d996acf88df8799b",
]
MU = [
    "b57061dc6d0a2b9f261ac410c8b26d64ac5506cbba30267a649c28c179400eba",
    "05ed2b4a3fb023c2ff5dd6ed4b9b6ea7383f5cfe9d59c11d121ec2c81ca2eea9",
    "caafe2820fa00eb2eeb78695ae452eba38f5a53ed6d53518c5c6edf76f3f5b78",
    "5052aa1b3d9f0655a0932e50d42f0c9ba0705142c25d225515c45f47c0036ee9",
    "8e45e5c61c2b24cb6382444db6698727afb063adecd72aada233d4bf273d975a",
]
AMMAG = [
    "3761ba4d3e726d8abb16cba5950ee976b84937b61b7ad09e741724d7dee12eb5",
    "59ee5867c5c151daa31e36ee42530f429c433836286e63744f2020b980302564",
    "1bf08df8628d452141d56adfd1b25c1530d7921c23cecfc749ac03a9b694b0d3",
    "cd9ac0e09064f039fa43a31dea05f5fe5f6443d40a98be4071af4a9d704be5ad",
    "2f36bb8822e1f0d04c27b7d8bb7d7dd586e032a3218b8d414afbba6f169a4d68",
]
UM_4 = "4da7f2923edce6c2d85987d1d9fa6d88023e6c3a9c3d20f07d3b10b61a78d646"
PAD_0 = "3c348715f933c32b5571e2c9136b17c4da2e8fd13e35b7092deff56650eea958"
# The first 48 bytes of the `stream` printed under ammag_key for hops 4 and 0.
STREAM_4 = ("e9c975b07c9a374ba64fd9be3aae955e917d34d1fa33f2e90f53bbf4394713c6"
            "a8c9b16ab5f12fd45edd73c1b0c8b330")
STREAM_0 = ("3699fd352a948a05f604763c0bca2968d5eaca2b0118602e52e59121f050936c"
            "8dd90c24df7dc8cf8f1665e39a6c75e9")
# route-blinding-test.json, hop "Bob": shared_secret → rho, node_id → blinded_node_id.
BOB_SECRET = "76771bab0cc3d0de6e6f60147fd7c9c7249a5ced3d0612bdfaeec3b15452229d"
BOB_RHO = "ba217b23c0978d84c4a19be8a9ff64bc1b40ed0d7ecf59521567a5b3a9a1dd48"
BOB_NODE_ID = "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c"
BOB_BLINDED_NODE_ID = "03da173ad2aee2f701f17e59fbd16cb708906d69838a5f088e8123fb36e89a2c25"


def test_key_types_are_the_specs_ascii_strings() -> None:
    """BOLT 4 › Key Generation: the key type is the ASCII string, used as the HMAC key."""
    assert (KEY_RHO.hex(), KEY_MU.hex(), KEY_UM.hex(), KEY_PAD.hex(), KEY_AMMAG.hex()) == (
        "72686f", "6d75", "756d", "706164", "616d6d6167")
    assert KEY_AMMAGEXT.hex() == "616d6d6167657874"
    assert KEY_BLINDED_NODE_ID == b"blinded_node_id"


@pytest.mark.parametrize("hop", range(5))
def test_rho_mu_ammag_of_each_hop(hop: int) -> None:
    secret = bytes.fromhex(SECRETS[hop])
    assert derive_key(KEY_RHO, secret).hex() == RHO[hop]
    assert derive_key(KEY_MU, secret).hex() == MU[hop]
    assert derive_key(KEY_AMMAG, secret).hex() == AMMAG[hop]


def test_um_of_the_erring_hop_and_pad() -> None:
    assert derive_key(KEY_UM, bytes.fromhex(SECRETS[4])).hex() == UM_4
    assert derive_key(KEY_PAD, bytes.fromhex(SECRETS[0])).hex() == PAD_0


def test_derivation_is_hmac_keyed_by_the_type() -> None:
    """The key type is the HMAC key and the secret the message, not the other way round."""
    secret = bytes.fromhex(SECRETS[0])
    assert hmac_sha256(b"rho", secret).hex() == RHO[0]
    assert hmac_sha256(secret, b"rho").hex() != RHO[0]


def test_blinding_rho_and_blinded_node_id() -> None:
    """BOLT 4 › Route Blinding: rho_i = HMAC256("rho", ss_i) and
    B_i = HMAC256("blinded_node_id", ss_i) · N_i."""
    secret = bytes.fromhex(BOB_SECRET)
    assert derive_key(KEY_RHO, secret).hex() == BOB_RHO
    tweak = derive_key(KEY_BLINDED_NODE_ID, secret)
    blinded = point_mul(parse_point(bytes.fromhex(BOB_NODE_ID)), tweak)
    assert serialize_point(blinded).hex() == BOB_BLINDED_NODE_ID


@pytest.mark.parametrize(("key", "stream"), [(AMMAG[4], STREAM_4), (AMMAG[0], STREAM_0)])
def test_chacha20_stream_is_the_published_ammag_stream(key: str, stream: str) -> None:
    """BOLT 4 › Pseudo Random Byte Stream: ChaCha20, zero nonce, counter 0."""
    raw = bytes.fromhex(key)
    assert chacha20_stream(raw, 48).hex() == stream
    assert chacha20(raw, bytes.fromhex(stream)) == bytes(48)


def test_sha256_and_xor_on_known_values() -> None:
    # FIPS 180-2 example: SHA-256("abc").
    assert sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert xor(b"\x0f\xf0\xaa", b"\xff\x0f") == b"\xf0\xff"


def test_scalar_mul_refuses_a_zero_product() -> None:
    with pytest.raises(InvalidSecret):
        scalar_mul(bytes(32), b"\x01" * 32)
    assert scalar_mul((2).to_bytes(32, "big"), (3).to_bytes(32, "big")) == (6).to_bytes(32, "big")
