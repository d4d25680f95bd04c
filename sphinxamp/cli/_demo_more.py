"""The demo's later stories: a payment into a blinded path (BOLT 4 › Route Blinding) and a
payment that fails on its way, its failure carried back with attribution data (BOLT 4 ›
Returning Errors). Fixed keys, so every run prints the same bytes.
"""

from __future__ import annotations

from typing import Any

from sphinxamp import (
    EncryptedData,
    FailureMessage,
    HopPayload,
    PaymentConstraints,
    PaymentRelay,
    ProcessedHop,
    ShortChannelId,
    build_blinded_payment_onion,
    build_onion,
    create_blinded_path,
    create_failure,
    decrypt_failure,
    process_hop,
    public_key,
    wrap_failure,
)

ALICE, BOB, CAROL = (bytes([b]) * 32 for b in (0x41, 0x42, 0x43))
PAYMENT_HASH = bytes([0x42]) * 32
HEIGHT = 840_000


def short(data: bytes) -> str:
    return f"{data[:4].hex()}…{data[-4:].hex()}"


def blinded_story() -> tuple[list[ProcessedHop], Any]:
    """Carol blinds Bob → Carol; the sender pays through Alice, then into the path."""
    path = create_blinded_path(bytes([0x01]) * 32, [
        (public_key(BOB), EncryptedData(
            short_channel_id=ShortChannelId(839_990, 4, 1),
            payment_relay=PaymentRelay(cltv_expiry_delta=40, fee_proportional_millionths=100,
                                       fee_base_msat=1_000),
            payment_constraints=PaymentConstraints(max_cltv_expiry=HEIGHT + 2016,
                                                   htlc_minimum_msat=1))),
        (public_key(CAROL), EncryptedData(path_id=b"invoice 42")),
    ], pad=True)
    onion = build_blinded_payment_onion(
        bytes([0x61]) * 32, PAYMENT_HASH, path, amount_msat=100_000, cltv_expiry=HEIGHT + 80,
        prefix=[(public_key(ALICE), HopPayload(
            amt_to_forward=101_010, outgoing_cltv_value=HEIGHT + 120,
            short_channel_id=ShortChannelId(839_000, 2, 1)))])
    hops = [process_hop(onion.packet, ALICE, PAYMENT_HASH)]
    amount: int | None = 101_010
    cltv: int | None = HEIGHT + 120
    path_key: bytes | None = None
    for key in (BOB, CAROL):
        packet = hops[-1].next_packet
        assert packet is not None
        hop = process_hop(packet, key, PAYMENT_HASH, path_key=path_key,
                          incoming_amount_msat=amount, incoming_cltv_expiry=cltv,
                          current_block_height=HEIGHT)
        hops.append(hop)
        amount, cltv, path_key = hop.amt_to_forward, hop.outgoing_cltv_value, hop.next_path_key
    return hops, path


def blinded_section() -> list[str]:
    hops, path = blinded_story()
    lines = ["== A payment into a blinded path (route blinding) ==",
             f"Carol publishes a blinded path: first_node_id {short(path.first_node_id)} (Bob), "
             f"first_path_key {short(path.first_path_key)}, {len(path.hops)} blinded hops.",
             "The sender pays 100000 msat: Alice, an ordinary hop, then Bob, then Carol."]
    for name, hop in zip(("Alice", "Bob", "Carol"), hops, strict=True):
        intro = ", introduction node (current_path_key in its payload)" * hop.introduction_node
        lines.append(f"  {name}: {hop.role.value}{intro}")
        if hop.encrypted_data is not None and not hop.is_final:
            lines.append(f"    decrypts its data, forwards {hop.amt_to_forward} msat until "
                         f"block {hop.outgoing_cltv_value}, hands on path_key "
                         f"{short(hop.next_path_key or b'')}")
        elif hop.encrypted_data is not None:
            lines.append(f"    recognises its path_id {hop.encrypted_data.path_id!r}: the "
                         "payment is for Carol")
        else:
            lines.append(f"    forwards {hop.payload.amt_to_forward} msat to the introduction "
                         "node")
    return lines


def failure_story() -> tuple[list[bytes], Any]:
    """Five hops; the fourth cannot forward (temporary_node_failure, held 300 ms) and the
    failure travels back, each hop adding its layer and a hold time of 100 ms."""
    keys = [bytes([0x41 + i]) * 32 for i in range(5)]
    payload = HopPayload(amt_to_forward=1_000, outgoing_cltv_value=HEIGHT + 40,
                         short_channel_id=ShortChannelId(839_000, 1, 0)).encode()
    built = build_onion(bytes([0x62]) * 32, [(public_key(k), payload) for k in keys],
                        PAYMENT_HASH)
    secrets = list(built.shared_secrets)
    reply = create_failure(secrets[3], FailureMessage.create("temporary_node_failure", {}),
                           hold_time=3)
    for secret in reversed(secrets[:3]):
        reply = wrap_failure(secret, reply.packet, reply.attribution_data, hold_time=1)
    return secrets, decrypt_failure(reply.packet, secrets, reply.attribution_data)


def failure_section() -> list[str]:
    _, result = failure_story()
    assert result.message is not None and result.attribution is not None
    lines = ["== A failure carried back to the origin (attributable failures) ==",
             "A 5-hop payment; hop 3 (counting from 0) cannot forward and answers "
             "temporary_node_failure.",
             "Each hop on the way back adds its ammag layer, its hold time and its HMACs.",
             f"  the origin reads: hop {result.hop_index} sent "
             f"{result.message.name} (0x{result.message.code:04x})"]
    for entry in result.attribution:
        lines.append(f"    hop {entry.hop_index}: held {entry.hold_time_ms} ms, HMAC "
                     f"{'verifies' if entry.hmac_ok else 'FAILS'}")
    return lines


def stories_json() -> dict[str, Any]:
    hops, path = blinded_story()
    _, result = failure_story()
    assert result.message is not None and result.attribution is not None
    return {
        "blinded": {
            "first_node_id": path.first_node_id.hex(),
            "first_path_key": path.first_path_key.hex(),
            "hops": [{"role": h.role.value, "introduction_node": h.introduction_node,
                      "amt_to_forward": h.amt_to_forward,
                      "outgoing_cltv_value": h.outgoing_cltv_value,
                      "next_path_key": None if h.next_path_key is None else h.next_path_key.hex()}
                     for h in hops],
        },
        "failure": {
            "hop_index": result.hop_index, "failure_name": result.message.name,
            "attribution": [{"hop_index": a.hop_index, "hold_time_ms": a.hold_time_ms,
                             "hmac_ok": a.hmac_ok} for a in result.attribution],
        },
    }
