"""Route blinding: the encrypted_data_tlv registry, every reader rule as its own typed error,
padding, relay arithmetic, and process_hop at blinded hops.

Expected values come from the official BOLT 4 vectors (`route-blinding-test.json`,
`blinded-payment-onion-test.json`) or from the independent route builder in
tests/blinded_route.py (coincurve and cryptography used directly, not the library).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import (
    BlindedPath,
    EncryptedData,
    HopPayload,
    PaymentConstraints,
    PaymentRelay,
    ShortChannelId,
    build_blinded_payment_onion,
    create_blinded_path,
    process_hop,
)
from sphinxamp.blinding import BlindedHop, aggregate_relay, forward_amount, forward_cltv, unblind
from sphinxamp.blinding._path import feature_field, pad_equal
from sphinxamp.blinding._unblind import blinded_payment_hop, check_constraints, check_data
from sphinxamp.errors import (
    AmountBelowMinimum,
    ConflictingNextHop,
    DecodeError,
    EncryptedDataError,
    ExpiryAboveMaximum,
    FinalValuesMismatch,
    InvalidArgument,
    InvalidOnionBlinding,
    InvalidPathKey,
    MalformedEncryptedData,
    MissingEncryptedData,
    MissingNextHop,
    MissingPaymentRelay,
    RelayUnderflow,
    UndecryptableData,
    UnknownAllowedFeature,
    UnknownEvenEncryptedType,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import TlvRecord
from tests.blinded_route import AD, BlindedHopSpec, blinded_route_onion, intermediate_data

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BOB_KEY, CAROL_KEY = bytes([0x42]) * 32, bytes([0x43]) * 32
NODE = crypto.public_key(bytes([0x21]) * 32)


def payment_cases() -> dict[str, Any]:
    doc = json.loads((VECTORS / "bolt04-blinded-payment-onion.json").read_text())
    return {c["id"]: c for c in doc["cases"]}


def seal(node_key: bytes, session: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
    """(path_key, encrypted_recipient_data) of a one-hop path to `node_key`'s node."""
    path = create_blinded_path(session, [(crypto.public_key(node_key), plaintext)])
    return path.first_path_key, path.hops[0].encrypted_recipient_data


SESSION = bytes([0x07]) * 32
# The vector gives no block height; Eve's HTLC expires at 749000, so at 748000 it is no
# nearer than min_final_cltv_expiry_delta (18).
VECTOR_HEIGHT = 748_000
RELAY = PaymentRelay(cltv_expiry_delta=144, fee_proportional_millionths=250, fee_base_msat=1000)
FORWARD = EncryptedData(short_channel_id=ShortChannelId(1, 2, 3), payment_relay=RELAY,
                        payment_constraints=PaymentConstraints(800_000, 1_000))


# --- encrypted_data_tlv ----------------------------------------------------------------------


@pytest.mark.parametrize(("stream", "cls", "reason"), [
    ("0200", MalformedEncryptedData, "length_below_fixed_size"),
    ("0a03000000", MalformedEncryptedData, "length_below_fixed_size"),
    ("0421" + "04" + "11" * 32, MalformedEncryptedData, "invalid_point"),
    ("1000", UnknownEvenEncryptedType, "unknown_even_type"),
    ("0605", MalformedEncryptedData, "value_missing"),
    ("06000100", MalformedEncryptedData, "not_strictly_increasing"),
    ("0c0600000001000a", MalformedEncryptedData, "truncated_int_not_minimal"),
])
def test_decode_refusals_are_typed(stream: str, cls: type[DecodeError], reason: str) -> None:
    with pytest.raises(cls) as info:
        EncryptedData.decode(bytes.fromhex(stream))
    assert info.value.reason == reason
    assert isinstance(info.value, EncryptedDataError)
    assert info.value.failure_name == "invalid_onion_blinding"


def test_unknown_odd_records_survive_a_round_trip() -> None:
    raw = bytes.fromhex("0604deadbeef" + "fd0231" + "03123456")
    data = EncryptedData.decode(raw)
    assert data.path_id == bytes.fromhex("deadbeef")
    assert data.unknown_records == (TlvRecord(561, bytes.fromhex("123456")),)
    assert data.encode() == raw


def test_feature_field_bit_order() -> None:
    """BOLT 9: bit 0 is the lowest bit of the last byte (route-blinding-test.json Eve: bit 113
    is 15 bytes starting 02)."""
    assert feature_field([113]).hex() == "02" + "00" * 14
    assert EncryptedData(allowed_features=feature_field([0, 9])).allowed_feature_bits == [0, 9]


# --- reader rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "final", "cls"), [
    (EncryptedData(allowed_features=feature_field([1])), True, UnknownAllowedFeature),
    (EncryptedData(short_channel_id=ShortChannelId(1, 1, 1), next_node_id=NODE,
                   payment_relay=RELAY), False, ConflictingNextHop),
    (EncryptedData(short_channel_id=ShortChannelId(1, 1, 1), next_node_id=NODE), True,
     ConflictingNextHop),
    (EncryptedData(payment_relay=RELAY), False, MissingNextHop),
    (EncryptedData(next_node_id=NODE), False, MissingPaymentRelay),
])
def test_data_rules(data: EncryptedData, final: bool, cls: type[EncryptedDataError]) -> None:
    with pytest.raises(cls):
        check_data(data, final=final)


def test_known_features_and_final_hops_pass() -> None:
    check_data(EncryptedData(allowed_features=feature_field([1])), final=True, known_features=[1])
    check_data(EncryptedData(path_id=b"x"), final=True)
    check_data(EncryptedData(next_node_id=NODE), final=False, payment=False)


def test_constraints_bounds() -> None:
    check_constraints(FORWARD, 1_000, 800_000)  # both limits are inclusive
    with pytest.raises(ExpiryAboveMaximum):
        check_constraints(FORWARD, 1_000, 800_001)
    with pytest.raises(AmountBelowMinimum):
        check_constraints(FORWARD, 999, 800_000)
    check_constraints(EncryptedData(), 0, 1 << 31)  # no constraints, nothing to break


def test_unblind_refusals() -> None:
    path_key, sealed = seal(BOB_KEY, SESSION, FORWARD.encode())
    assert unblind(BOB_KEY, path_key, sealed).data == FORWARD
    with pytest.raises(UndecryptableData, match="authenticate"):
        unblind(CAROL_KEY, path_key, sealed)
    with pytest.raises(UndecryptableData) as info:
        unblind(BOB_KEY, path_key, sealed[:15])
    assert info.value.reason == "too_short"
    with pytest.raises(MissingEncryptedData):
        unblind(BOB_KEY, path_key, None)
    with pytest.raises(InvalidPathKey):
        unblind(BOB_KEY, b"\x02" + b"\x00" * 32, sealed)
    _, odd = seal(BOB_KEY, SESSION, bytes.fromhex("1000"))
    with pytest.raises(UnknownEvenEncryptedType):
        unblind(BOB_KEY, path_key, odd)


def test_next_path_key_override_wins() -> None:
    override = crypto.public_key(bytes([9]) * 32)
    path_key, sealed = seal(BOB_KEY, SESSION, EncryptedData(
        next_node_id=NODE, next_path_key_override=override).encode())
    got = unblind(BOB_KEY, path_key, sealed)
    assert got.next_path_key == override != got.derived_next_path_key
    # E_1 = SHA256(E_0 ‖ ss_0)·E_0, i.e. the public key of e_0·SHA256(E_0 ‖ ss_0).
    factor = crypto.sha256(path_key + got.shared_secret)
    assert got.derived_next_path_key == crypto.public_key(crypto.scalar_mul(SESSION, factor))


# --- relay arithmetic ------------------------------------------------------------------------


def test_relay_arithmetic_examples() -> None:
    """blinded-payment-onion-test.json: Bob (base 10000, 0 ppm) turns 110125 into 100125,
    Carol (100, 150 ppm) 100125 into 100010, Dave (0, 100 ppm) 100010 into 100000, which is
    Eve's amt_to_forward in the official payload."""
    assert forward_amount(110_125, PaymentRelay(50, 0, 10_000)) == 100_125
    assert forward_amount(100_125, PaymentRelay(75, 150, 100)) == 100_010
    assert forward_amount(100_010, PaymentRelay(25, 100, 0)) == 100_000
    assert forward_cltv(749_150, PaymentRelay(50, 0)) == 749_100
    with pytest.raises(RelayUnderflow):
        forward_amount(99, PaymentRelay(0, 0, 100))
    with pytest.raises(RelayUnderflow):
        forward_cltv(10, PaymentRelay(11, 0))


def test_aggregate_relay_matches_the_official_payinfo() -> None:
    relays = [PaymentRelay(50, 0, 10_000), PaymentRelay(75, 150, 100), PaymentRelay(25, 100, 0)]
    info = aggregate_relay(relays)
    assert (info.fee_base_msat, info.fee_proportional_millionths,
            info.cltv_expiry_delta) == (10_100, 251, 150)
    assert aggregate_relay(relays, 18).cltv_expiry_delta == 168


# --- padding and creation --------------------------------------------------------------------


def test_pad_equal_reaches_one_length_even_one_byte_short() -> None:
    datas = [EncryptedData(path_id=b"a" * 10), EncryptedData(path_id=b"a" * 9),
             EncryptedData(path_id=b"a" * 8), EncryptedData(next_node_id=NODE, padding=b"zz")]
    padded = pad_equal(datas)
    assert len({len(p.encode()) for p in padded}) == 1
    for before, after in zip(datas, padded, strict=True):
        assert after.path_id == before.path_id and after.next_node_id == before.next_node_id
        assert after.padding is None or set(after.padding) <= {0}


def test_pad_equal_across_the_bigsize_boundary() -> None:
    datas = [EncryptedData(path_id=bytes(300)), EncryptedData(path_id=bytes(47))]
    assert len({len(p.encode()) for p in pad_equal(datas)}) == 1


def test_create_refuses_bad_arguments() -> None:
    with pytest.raises(InvalidArgument):
        create_blinded_path(SESSION, [])
    with pytest.raises(InvalidArgument):
        create_blinded_path(SESSION, [(b"\x05" * 33, b"")])
    with pytest.raises(InvalidArgument):
        create_blinded_path(SESSION, [(NODE, b"0600")], pad=True)


def test_blinded_path_wire_form() -> None:
    path = BlindedPath(NODE, NODE, (BlindedHop(NODE, b"\x01\x02"),))
    assert path.encode() == NODE + NODE + b"\x01" + NODE + b"\x00\x02\x01\x02"
    with pytest.raises(Exception, match="1 to 255"):
        BlindedPath(NODE, NODE, ()).encode()


# --- process_hop at blinded hops --------------------------------------------------------------


class EcdhOnly:
    """A node key that offers nothing but ecdh (as a signer or HSM would)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def ecdh(self, point: bytes) -> bytes:
        parsed = crypto.parse_point(point)
        assert parsed is not None
        return crypto.ecdh(self._secret, parsed)


@pytest.mark.parametrize("key_object", [False, True])
def test_official_payment_chain_through_process_hop(key_object: bool) -> None:
    cases = payment_cases()
    for name in ("hop-alice", "hop-bob", "hop-carol", "hop-dave", "hop-eve"):
        case, expect = cases[name], cases[name]["expect"]
        key = bytes.fromhex(case["node_key"])
        hop = process_hop(bytes.fromhex(case["onion"]), EcdhOnly(key) if key_object else key,
                          bytes.fromhex(case["associated_data"]),
                          path_key=None if case["path_key"] is None
                          else bytes.fromhex(case["path_key"]),
                          incoming_amount_msat=case.get("incoming_amount_msat"),
                          incoming_cltv_expiry=case.get("incoming_cltv_expiry"),
                          current_block_height=VECTOR_HEIGHT)
        nxt = None if hop.next_packet is None else hop.next_packet.to_bytes().hex()
        assert nxt == expect["next_onion"]
        assert (None if hop.next_path_key is None else hop.next_path_key.hex()) == \
            expect["next_path_key"]
        assert hop.amt_to_forward == expect.get("amt_to_forward")


@pytest.mark.parametrize(("change", "cls", "message"), [
    ({"incoming_cltv_expiry": 750_151}, ExpiryAboveMaximum, "update_fail_htlc"),
    ({"incoming_amount_msat": 49}, AmountBelowMinimum, "update_fail_htlc"),
    ({"incoming_amount_msat": 9_999}, RelayUnderflow, "update_fail_htlc"),
])
def test_introduction_node_refusals(change: dict[str, Any], cls: type, message: str) -> None:
    """Bob is the introduction node (current_path_key in his payload): every refusal is
    invalid_onion_blinding; one he can read the onion for goes back in update_fail_htlc."""
    case = {**payment_cases()["hop-bob"], **change}
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(bytes.fromhex(case["onion"]), bytes.fromhex(case["node_key"]),
                    bytes.fromhex(case["associated_data"]),
                    incoming_amount_msat=case["incoming_amount_msat"],
                    incoming_cltv_expiry=case["incoming_cltv_expiry"])
    err = info.value
    assert err.failure_code == 0xC018 and err.failure_message == message
    assert err.sha256_of_onion == crypto.sha256(bytes.fromhex(case["onion"]))
    assert isinstance(err.cause, cls)


def test_a_wrong_path_key_inside_the_route_is_malformed_blinding() -> None:
    """Carol gets the path key Bob should not have handed on: the onion was built to another
    blinded id, so its HMAC fails, and inside a blinded route that is invalid_onion_blinding
    in update_fail_malformed_htlc (BOLT 2: the node cannot encrypt an error)."""
    case = payment_cases()["hop-carol"]
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(bytes.fromhex(case["onion"]), bytes.fromhex(case["node_key"]),
                    bytes.fromhex(case["associated_data"]), path_key=NODE)
    assert info.value.failure_message == "update_fail_malformed_htlc"
    assert info.value.cause is not None and info.value.cause.reason == "hmac_mismatch"


def test_blinded_hop_errors_from_an_independent_route() -> None:
    """A route built by tests/blinded_route.py (not the library): Carol's data decrypts to
    what that builder sealed; with a payment_relay missing, the hop answers
    invalid_onion_blinding in update_fail_malformed_htlc (HTLC path_key) with the typed cause."""
    bob, carol = BOB_KEY, CAROL_KEY
    good = intermediate_data()
    no_relay = bytes.fromhex("02080000010000020003")
    for data, cause in ((good, None), (no_relay, MissingPaymentRelay)):
        onion, path_keys = blinded_route_onion(
            bytes([0x55]) * 32, [], [BlindedHopSpec(bob, b"", good),
                                     BlindedHopSpec(carol, b"", data),
                                     BlindedHopSpec(bytes([0x44]) * 32, bytes.fromhex(
                                         "020203e8040300c350120203e8"), b"\x06\x01\x00")],
            SESSION)
        first = process_hop(onion, bob, AD, incoming_amount_msat=10_000,
                            incoming_cltv_expiry=900_000)
        assert first.introduction_node and first.encrypted_data == EncryptedData.decode(good)
        assert first.amt_to_forward == -(-(10_000 - 1000) * 10**6 // (10**6 + 100))
        assert first.outgoing_cltv_value == 900_000 - 144
        assert first.next_path_key == path_keys[1] and first.next_packet is not None
        assert first.amt_to_forward is not None and first.outgoing_cltv_value is not None
        amount, cltv = first.amt_to_forward, first.outgoing_cltv_value
        if cause is None:
            hop = process_hop(first.next_packet, carol, AD, path_key=path_keys[1],
                              incoming_amount_msat=amount, incoming_cltv_expiry=cltv)
            assert hop.encrypted_data == EncryptedData.decode(good)
            assert hop.amt_to_forward == -(-(amount - 1000) * 10**6 // (10**6 + 100))
            continue
        with pytest.raises(InvalidOnionBlinding) as info:
            process_hop(first.next_packet, carol, AD, path_key=path_keys[1],
                        incoming_amount_msat=amount, incoming_cltv_expiry=cltv)
        assert isinstance(info.value.cause, cause)
        assert info.value.failure_message == "update_fail_malformed_htlc"


def test_blinded_payment_hop_final_takes_the_payload_values() -> None:
    path_key, sealed = seal(BOB_KEY, SESSION, EncryptedData(path_id=b"id").encode())
    payload = HopPayload(amt_to_forward=5, outgoing_cltv_value=6,
                         encrypted_recipient_data=sealed, total_amount_msat=5)
    got = blinded_payment_hop(BOB_KEY, path_key, payload, final=True, amount_msat=5,
                              cltv_expiry=6)
    assert (got.amt_to_forward, got.outgoing_cltv_value) == (5, 6)
    assert got.encrypted_data.path_id == b"id"


def test_build_refuses_an_empty_path() -> None:
    with pytest.raises(Exception, match="no hops"):
        build_blinded_payment_onion(SESSION, AD, BlindedPath(NODE, NODE, ()), amount_msat=1,
                                    cltv_expiry=1)


@pytest.mark.parametrize(("change", "reason"), [
    ({"incoming_cltv_expiry": 748_999}, "final_expiry_below_outgoing"),
    ({"incoming_amount_msat": 99_999}, "final_amount_below_forward"),
])
def test_final_blinded_hop_compares_the_htlc_with_its_payload(change: dict[str, Any],
                                                              reason: str) -> None:
    """Eve's payload says 100000 msat at 749000 (blinded-payment-onion-test.json); an HTLC
    short of either is refused, as invalid_onion_blinding like every error in the route."""
    case = {**payment_cases()["hop-eve"], **change}
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(bytes.fromhex(case["onion"]), bytes.fromhex(case["node_key"]),
                    bytes.fromhex(case["associated_data"]),
                    path_key=bytes.fromhex(case["path_key"]),
                    incoming_amount_msat=case["incoming_amount_msat"],
                    incoming_cltv_expiry=case["incoming_cltv_expiry"],
                    current_block_height=VECTOR_HEIGHT)
    assert isinstance(info.value.cause, FinalValuesMismatch)
    assert info.value.cause.reason == reason
