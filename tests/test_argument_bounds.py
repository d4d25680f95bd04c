"""Numbers a caller hands the builder and the hop processor have bounds: a payload area that
no onion_message's u16 len can frame, and HTLC amounts and expiries past their wire width,
are refused with `InvalidArgument` before anything is allocated or computed."""

from __future__ import annotations

import pytest

from sphinxamp import (
    EncryptedData,
    build_onion,
    build_onion_message,
    create_blinded_path,
    process_hop,
)
from sphinxamp.blinding import OnionMessage
from sphinxamp.errors import InvalidArgument
from sphinxamp.onion import MAX_PAYLOAD_AREA
from tests.strategies import pubkey_of

SESSION = bytes([0x41]) * 32
NODE = bytes([0x42]) * 32
# amt_to_forward = 1, outgoing_cltv_value = 1: a final hop.
HOP = (pubkey_of(NODE), bytes.fromhex("020101040101"))


def test_the_bound_is_what_a_u16_len_frames() -> None:
    # BOLT 4 › Onion Messages: len (u16) covers version ‖ key ‖ hop_payloads ‖ hmac.
    assert MAX_PAYLOAD_AREA == 65535 - 1 - 33 - 32 == 65469


@pytest.mark.parametrize("area", [2**64, 2**32, MAX_PAYLOAD_AREA + 1, 65535, -1])
def test_build_onion_refuses_an_area_out_of_bounds(area: int) -> None:
    with pytest.raises(InvalidArgument) as info:
        build_onion(SESSION, [HOP], b"", area)
    assert info.value.field == "payload_area" and "65469" in info.value.message


def test_the_largest_area_still_frames_as_an_onion_message() -> None:
    path = create_blinded_path(SESSION, [(pubkey_of(NODE), EncryptedData())])
    message = build_onion_message(SESSION, path, payload_area=MAX_PAYLOAD_AREA)
    raw = message.to_bytes()
    assert int.from_bytes(raw[35:37], "big") == 65535
    assert OnionMessage.parse(raw).packet.payload_area == MAX_PAYLOAD_AREA
    with pytest.raises(InvalidArgument):
        build_onion_message(SESSION, path, payload_area=MAX_PAYLOAD_AREA + 1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # cltv_expiry=
@pytest.mark.parametrize(("name", "value"), [
    ("incoming_amount_msat", 2**70), ("incoming_amount_msat", 2**64),
    ("incoming_amount_msat", -1), ("incoming_cltv_expiry", 2**32),
    ("cltv_expiry", 2**32), ("cltv_expiry", -5)])
def test_process_hop_refuses_htlc_fields_past_their_wire_width(name: str, value: int) -> None:
    # update_add_htlc (BOLT 2): amount_msat u64, cltv_expiry u32.
    packet = build_onion(SESSION, [HOP], b"").packet
    with pytest.raises(InvalidArgument) as info:
        process_hop(packet, NODE, b"", **{name: value})  # type: ignore[call-overload]
    # cltv_expiry= is the deprecated name of incoming_cltv_expiry, refused under the new name.
    assert info.value.field == {"cltv_expiry": "incoming_cltv_expiry"}.get(name, name)


def test_process_hop_takes_the_widest_values() -> None:
    packet = build_onion(SESSION, [HOP], b"").packet
    hop = process_hop(packet, NODE, b"", incoming_amount_msat=2**64 - 1,
                      incoming_cltv_expiry=2**32 - 1, current_block_height=0)
    assert hop.is_final
