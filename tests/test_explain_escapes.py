"""`explain` never lets anything but the library's own errors out, with keys or without: wide
integers are shown in hex, an onion with an empty routing area is laid out, and arbitrary
bytes with arbitrary keys (drawn or fixed, the rest sealed so decryption succeeds) raise at
most a `SphinxampError`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sphinxamp import Explanation, explain
from sphinxamp._explain import KIND_NAMES
from sphinxamp.debug import Field
from sphinxamp.errors import SphinxampError
from tests.strategies import pubkey_of, ref_bigsize, seal_packet

NODE_KEY = bytes([0x41]) * 32
ASSOC = bytes([0x42]) * 32
SESSION = bytes([0x43]) * 32
PATH_KEY = pubkey_of(bytes([0x44]) * 32)
SECRET = bytes([0x45]) * 32
FIXED: dict[str, Any] = {"node_key": NODE_KEY, "assoc_data": ASSOC, "path_key": PATH_KEY,
                         "shared_secrets": [SECRET]}
WIDE = b"\xff" * 1786  # 1,786 bytes: an integer of 4,302 decimal digits
# amt_to_forward (type 2, tu64) given 1,786 bytes: the input.
WIDE_PAYLOAD = b"\x02\xfd\x06\xfa" + WIDE


def _fields(fields: list[Field]) -> list[Field]:
    out: list[Field] = []
    for f in fields:
        out += [f, *_fields(f.children)]
    return out


def _wide_field(ex: Explanation) -> Field:
    wide = [f for f in _fields(ex.fields) if f.length == len(WIDE)]
    assert wide, ex.to_json()
    return wide[0]


@pytest.mark.parametrize("kind", ["payload", "auto", "tlv"])
def test_wide_tu64_is_shown_in_hex(kind: str) -> None:
    ex = explain(WIDE_PAYLOAD, kind)
    json.dumps(ex.to_json())
    if kind != "payload":  # tlv has no schema (auto guesses tlv): bytes, never an integer
        return
    value = _wide_field(ex)
    assert value.value == "0x" + WIDE.hex()
    assert "tu64, 1786 bytes: wider than 8 bytes" in value.meaning
    assert ex.error is not None and ex.error.tlv_type == 2


def test_wide_amp_child_index_is_shown_in_hex() -> None:
    # root_share ‖ set_id ‖ child_index (tu32): the last part takes what is left.
    ex = explain(bytes(64) + WIDE, "amp")
    child = _wide_field(ex)
    assert child.value == "0x" + WIDE.hex() and ex.error is not None


def test_wide_encrypted_data_is_shown_in_hex() -> None:
    # payment_constraints (type 12): max_cltv_expiry u32 ‖ htlc_minimum_msat tu64.
    data = b"\x0c\xfd" + (4 + len(WIDE)).to_bytes(2, "big") + bytes(4) + WIDE
    ex = explain(data, "encrypted-data")
    assert _wide_field(ex).value == "0x" + WIDE.hex()


@pytest.mark.parametrize("kind", ["auto", "onion"])
def test_wide_value_in_a_32768_area_onion_with_the_node_key(kind: str) -> None:
    payload = WIDE_PAYLOAD
    frame = ref_bigsize(len(payload)) + payload + bytes(32)
    area = frame + bytes(32768 - len(frame))
    onion = seal_packet(SESSION, pubkey_of(NODE_KEY), area, ASSOC)
    ex = explain(onion, kind, node_key=NODE_KEY, assoc_data=ASSOC)
    assert ex.kind == "onion"
    assert _wide_field(ex).value == "0x" + WIDE.hex()
    json.dumps(ex.to_json())


@pytest.mark.parametrize("keys", [{}, FIXED, {"node_key": NODE_KEY, "assoc_data": ASSOC}])
def test_empty_routing_area(keys: dict[str, Any]) -> None:
    ex = explain(bytes(66), "onion", **keys)
    names = [f.name for f in ex.fields[0].children]
    assert names == ["version", "public_key", "hop_payloads", "hmac"]
    assert ex.fields[0].children[2].length == 0
    assert ex.error is not None  # the all-zero key is no point


def test_empty_routing_area_that_authenticates() -> None:
    onion = seal_packet(SESSION, pubkey_of(NODE_KEY), b"", ASSOC)
    ex = explain(onion, "onion", node_key=NODE_KEY, assoc_data=ASSOC)
    assert ex.error is not None and ex.error.reason == "empty_input"
    assert ex.error.offset == 34 and ex.error.decrypted


_KEY_SETS = st.one_of(
    st.just({}), st.just(FIXED),
    st.builds(lambda n, p, s: {"node_key": n, "path_key": p, "shared_secrets": [s],
                               "assoc_data": b""},
              st.binary(min_size=32, max_size=32), st.binary(min_size=33, max_size=33),
              st.binary(min_size=32, max_size=32)))


def _explains(data: bytes, kind: str, keys: dict[str, Any]) -> None:
    try:
        ex = explain(data, kind, **keys)
    except SphinxampError:
        return
    json.dumps(ex.to_json())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), kind=st.sampled_from(KIND_NAMES), keys=_KEY_SETS)
def test_only_library_errors_escape(data: bytes, kind: str, keys: dict[str, Any]) -> None:
    _explains(data, kind, keys)


@settings(max_examples=200, deadline=None)
@given(plain=st.binary(max_size=1400), path=st.booleans(), kind=st.sampled_from(
    ["auto", "onion"]))
def test_only_library_errors_escape_from_a_decrypted_area(plain: bytes, path: bool,
                                                          kind: str) -> None:
    # A sealed packet decrypts, so the frame and payload readers see `plain` itself.
    onion = seal_packet(SESSION, pubkey_of(NODE_KEY), plain, ASSOC)
    _explains(onion, kind, {"node_key": NODE_KEY, "assoc_data": ASSOC,
                            "shared_secrets": [SECRET],
                            **({"path_key": PATH_KEY} if path else {})})
