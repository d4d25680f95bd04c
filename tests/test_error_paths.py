"""Refusals of values a caller hands in (routes, amounts, keys, scalars) and the CLI's paths
for odd input: each raises the library's typed error, never a bare ValueError or a wrong
result. Expected points come from coincurve directly, not from sphinxamp."""

from __future__ import annotations

import json

import coincurve
import pytest

from sphinxamp import HopPayload, RouteHop, ShortChannelId, build_route_onion
from sphinxamp.cli import main
from sphinxamp.errors import EncodeError, InvalidSecret, PaymentError
from sphinxamp.payments import ShardTracker, verify_keysend
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import U16
from tests.strategies import pubkey_of, seal_packet

DEST_KEY = bytes([0x5A]) * 32
DEST = pubkey_of(DEST_KEY)
HOP = RouteHop(pubkey_of(bytes([0x42]) * 32), ShortChannelId(1, 2, 3), fee_base_msat=1_000,
               cltv_expiry_delta=40)


@pytest.mark.parametrize("final", [HopPayload(amt_to_forward=1_000),
                                   HopPayload(outgoing_cltv_value=800_000)])
def test_route_needs_the_final_amount_and_expiry(final: HopPayload) -> None:
    with pytest.raises(EncodeError) as info:
        build_route_onion(DEST, (HOP,), final, bytes(32), bytes([0x41]) * 32)
    assert info.value.reason == "record_omitted"


def test_route_refuses_an_htlc_expiry_past_u32() -> None:
    # The final expiry fits a tu32; the hop's cltv delta on top of it does not.
    final = HopPayload(amt_to_forward=1_000, outgoing_cltv_value=(1 << 32) - 1)
    with pytest.raises(EncodeError) as info:
        build_route_onion(DEST, (HOP,), final, bytes(32), bytes([0x41]) * 32)
    assert (info.value.field, info.value.reason) == ("route", "range")


@pytest.mark.parametrize("total", [0, 1 << 64])
def test_shard_tracker_refuses_a_total_outside_u64(total: int) -> None:
    with pytest.raises(EncodeError) as info:
        ShardTracker(bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32, total)
    assert info.value.field == "total_msat"


def test_keysend_preimage_of_the_wrong_size_is_refused() -> None:
    preimage = bytes([7]) * 31
    payload = HopPayload(amt_to_forward=1, outgoing_cltv_value=1, keysend_preimage=preimage)
    with pytest.raises(PaymentError) as info:
        verify_keysend(payload, bytes(32))
    assert info.value.reason == "keysend_preimage_size"
    assert info.value.failure_code == 0x400F  # incorrect_or_unknown_payment_details


def test_point_mul_reduces_a_tweak_past_the_curve_order() -> None:
    # BOLT 4 blinds with SHA256(...) mod n: a tweak of n + 3 must act as 3.
    key = crypto.parse_point(DEST)
    tweak = (crypto.CURVE_ORDER + 3).to_bytes(32, "big")
    expected = coincurve.PublicKey(DEST).multiply((3).to_bytes(32, "big")).format()
    assert crypto.serialize_point(crypto.point_mul(key, tweak)) == expected


@pytest.mark.parametrize("tweak", [bytes(32), crypto.CURVE_ORDER.to_bytes(32, "big"),
                                   bytes([1]) * 31])
def test_point_mul_refuses_a_tweak_that_is_zero_mod_n_or_not_32_bytes(tweak: bytes) -> None:
    with pytest.raises(InvalidSecret):
        crypto.point_mul(crypto.parse_point(DEST), tweak)


@pytest.mark.parametrize("secret", [bytes(32), crypto.CURVE_ORDER.to_bytes(32, "big"),
                                    bytes([1]) * 31])
def test_public_key_refuses_what_is_not_a_private_key(secret: bytes) -> None:
    with pytest.raises(InvalidSecret) as info:
        crypto.public_key(secret, "node key")
    assert info.value.field == "node key"


def test_scalar_product_of_zero_is_refused() -> None:
    with pytest.raises(InvalidSecret):
        crypto.scalar_mul(DEST_KEY, bytes(32))


@pytest.mark.parametrize("value", [-1, 1 << 16])
def test_fixed_width_integer_refuses_what_it_cannot_hold(value: int) -> None:
    with pytest.raises(EncodeError) as info:
        U16.encode(value)
    assert info.value.reason == "range"


@pytest.mark.parametrize("area", ["twelve", "-5"])
def test_peel_refuses_a_payload_area_that_is_not_a_size(
        area: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:  # argparse: a usage error exits with status 2
        main(["onion", "peel", "00", "--node-key", "41" * 32, "--assoc-data", "",
              "--payload-area", area])
    assert info.value.code == 2
    assert "--payload-area" in capsys.readouterr().err


def _peel_undecodable(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    # A frame whose payload is not a TLV stream (type 1, then a length running past the end),
    # followed by an all-zero HMAC: the onion peels, the payload does not decode.
    plaintext = bytes([3, 0x01, 0x05, 0xAA]) + bytes(32) + bytes(1300 - 36)
    packet = seal_packet(bytes([0x61]) * 32, DEST, plaintext, b"")
    status = main(["onion", "peel", packet.hex(), "--node-key", DEST_KEY.hex(),
                   "--assoc-data", "", *flags])
    return status, capsys.readouterr().out


def test_peel_explains_a_payload_that_is_not_a_tlv_stream(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _peel_undecodable(capsys)
    assert status == 0  # the layer came off: version, key and HMAC were right
    assert "not a valid TLV stream" in out
    assert "value_truncated" in out or "runs past the end" in out
    status, out = _peel_undecodable(capsys, "--json")
    doc = json.loads(out)
    assert doc["payload"] == "0105aa" and doc["tlv"] == []
    assert doc["tlv_error"]["reason"] == "value_truncated"


def test_peel_strict_fails_on_a_payload_that_is_not_a_tlv_stream(
        capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _peel_undecodable(capsys, "--strict", "--json")
    assert status == 1
    assert json.loads(out)["failure_name"] == "invalid_onion_payload"
