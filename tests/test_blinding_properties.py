"""Properties of route blinding (BOLT 4 › Route Blinding; › `payload` format › Requirements).

- A random blinded path of 1–10 hops with random data, created and then unblinded hop by hop
  (each node with its own key and the path key the previous node handed on), gives every hop
  its data back and the last one its path_id; as a payment onion through process_hop too.
- Any damaged byte of encrypted_recipient_data is refused by the AEAD.
- The relay arithmetic agrees with an independent formula in exact rational arithmetic.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sphinxamp import (
    EncryptedData,
    PaymentConstraints,
    PaymentRelay,
    ShortChannelId,
    build_blinded_payment_onion,
    create_blinded_path,
    process_hop,
)
from sphinxamp.blinding import forward_amount, unblind
from sphinxamp.blinding._path import pad_equal
from sphinxamp.errors import UndecryptableData
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire import TlvRecord

ORDER = crypto.CURVE_ORDER
secrets = st.integers(1, ORDER - 1).map(lambda n: n.to_bytes(32, "big"))
relays = st.builds(PaymentRelay, st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF),
                   st.integers(0, 0xFFFFFFFF))
unknown_odd = st.lists(st.sampled_from([3, 5, 7, 9, 11, 13, 15, 17, 561, 65535]), unique=True,
                       max_size=2).map(lambda ts: tuple(TlvRecord(t, bytes([t & 0xFF]))
                                                        for t in sorted(ts)))


@st.composite
def hop_data(draw: st.DrawFn, final: bool) -> EncryptedData:
    if final:
        return EncryptedData(path_id=draw(st.binary(min_size=0, max_size=40)),
                             padding=draw(st.none() | st.binary(max_size=5)),
                             unknown_records=draw(unknown_odd))
    use_scid = draw(st.booleans())
    next_node = crypto.public_key(draw(secrets))
    return EncryptedData(
        short_channel_id=ShortChannelId(draw(st.integers(0, 2**24 - 1)),
                                        draw(st.integers(0, 2**24 - 1)),
                                        draw(st.integers(0, 2**16 - 1))) if use_scid else None,
        next_node_id=None if use_scid else next_node,
        payment_relay=draw(relays),
        payment_constraints=draw(st.none() | st.builds(
            PaymentConstraints, st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1))),
        unknown_records=draw(unknown_odd))


@st.composite
def paths(draw: st.DrawFn) -> tuple[bytes, list[bytes], list[EncryptedData]]:
    n = draw(st.integers(1, 10))
    keys = draw(st.lists(secrets, min_size=n, max_size=n, unique=True))
    datas = [draw(hop_data(i == n - 1)) for i in range(n)]
    return draw(secrets), keys, datas


def _without_padding(data: EncryptedData) -> EncryptedData:
    return EncryptedData(**{**{k: getattr(data, k) for k in data.__slots__}, "padding": None})


@settings(max_examples=40, deadline=None)
@given(paths(), st.booleans())
def test_every_hop_recovers_its_data(case: tuple[bytes, list[bytes], list[EncryptedData]],
                                     pad: bool) -> None:
    session, keys, datas = case
    path = create_blinded_path(session, [(crypto.public_key(k), d) for k, d in
                                         zip(keys, datas, strict=True)], pad=pad)
    if pad:
        assert len({len(h.encrypted_recipient_data) for h in path.hops}) == 1
    path_key = path.first_path_key
    for key, data, hop in zip(keys, datas, path.hops, strict=True):
        got = unblind(key, path_key, hop.encrypted_recipient_data)
        assert (_without_padding(got.data) if pad else got.data) == \
            (_without_padding(data) if pad else data)
        # The blinded node id is the node's key times HMAC256("blinded_node_id", ss).
        factor = crypto.derive_key(crypto.KEY_BLINDED_NODE_ID, got.shared_secret)
        assert crypto.public_key(crypto.scalar_mul(factor, key)) == hop.blinded_node_id
        path_key = got.next_path_key
    assert got.data.path_id == datas[-1].path_id


def _incoming_for(forward: int, base: int, proportional: int) -> int:
    """The least amount_msat from which BOLT 4's amt_to_forward = ((amount_msat − base)·10^6 +
    10^6 + proportional − 1) / (10^6 + proportional) reaches `forward`."""
    amount = base + forward * (10**6 + proportional) // 10**6
    while ((amount - base) * 10**6 + 10**6 + proportional - 1) // (10**6 + proportional) \
            < forward:
        amount += 1
    return amount


@settings(max_examples=15, deadline=None)
@given(paths(), st.integers(1, 2**40), st.integers(0, 2**31))
def test_payment_onion_through_process_hop(case: tuple[bytes, list[bytes], list[EncryptedData]],
                                           amount: int, cltv: int) -> None:
    """The whole payment: every hop decrypts its data, hands on the next path key, and the
    last one reads the amount, expiry and path_id it was sent."""
    session, keys, datas = case
    datas = [EncryptedData(**{**{k: getattr(d, k) for k in d.__slots__},
                              "payment_constraints": None}) for d in datas]
    # Data naming its own node as next_node_id is a dummy hop, peeled in place by that node
    # (tests/test_hop_context.py): not this walk.
    assume(all(d.next_node_id != crypto.public_key(k) for k, d in zip(keys, datas, strict=True)))
    path = create_blinded_path(session, [(crypto.public_key(k), d) for k, d in
                                         zip(keys, datas, strict=True)], pad=True)
    ad = crypto.sha256(session)
    try:
        built = build_blinded_payment_onion(session, ad, path, amount_msat=amount,
                                            cltv_expiry=cltv)
    except Exception as exc:  # ten long hops may not fit the 1300 bytes: that is refused
        assert getattr(exc, "reason", None) == "route_too_long"
        return
    # The HTLC the introduction node must receive for the recipient to get `amount` at `cltv`
    # (each payment_relay undone, from the recipient back); each hop then receives what the
    # one before forwarded.
    need_amount, need_cltv = amount, cltv
    for data in reversed(datas[:-1]):
        relay = data.payment_relay
        assert relay is not None
        need_amount = _incoming_for(need_amount, relay.fee_base_msat,
                                    relay.fee_proportional_millionths)
        need_cltv += relay.cltv_expiry_delta
    assume(need_amount < 2**64 and need_cltv < 2**32)  # an HTLC carries a u64 and a u32
    packet, path_key = built.packet, None
    amount_in: int | None = need_amount
    cltv_in: int | None = need_cltv
    for i, (key, data) in enumerate(zip(keys, datas, strict=True)):
        hop = process_hop(packet, key, ad, path_key=path_key, incoming_amount_msat=amount_in,
                          incoming_cltv_expiry=cltv_in, current_block_height=0,
                          min_final_cltv_expiry_delta=0)
        amount_in, cltv_in = hop.amt_to_forward, hop.outgoing_cltv_value
        assert hop.introduction_node is (i == 0)
        assert hop.encrypted_data is not None
        assert _without_padding(hop.encrypted_data) == _without_padding(data)
        path_key = hop.next_path_key
        if hop.next_packet is None:
            break
        packet = hop.next_packet
    assert i == len(keys) - 1 and hop.next_packet is None
    assert (hop.amt_to_forward, hop.outgoing_cltv_value) == (amount, cltv)
    assert hop.payload.total_amount_msat == amount
    assert hop.encrypted_data is not None and hop.encrypted_data.path_id == datas[-1].path_id


@settings(max_examples=60, deadline=None)
@given(secrets, secrets, st.binary(max_size=80), st.data())
def test_any_damaged_byte_is_refused(session: bytes, node: bytes, plain: bytes,
                                     data: st.DataObject) -> None:
    path = create_blinded_path(session, [(crypto.public_key(node), plain)])
    sealed = bytearray(path.hops[0].encrypted_recipient_data)
    at = data.draw(st.integers(0, len(sealed) - 1))
    sealed[at] ^= data.draw(st.integers(1, 255))
    try:
        unblind(node, path.first_path_key, bytes(sealed))
    except UndecryptableData as exc:
        assert exc.reason == "decryption_failed"
    else:
        raise AssertionError(f"a damaged byte {at} was accepted")


@given(st.integers(0, 2**64 - 1), relays)
def test_relay_arithmetic_matches_exact_division(amount: int, relay: PaymentRelay) -> None:
    """amt_to_forward is the least x with x·(1 + prop/10^6) ≥ amount − base: the ceiling of
    an exact rational, computed here with Fraction."""
    if amount < relay.fee_base_msat:
        return
    exact = Fraction(amount - relay.fee_base_msat) / Fraction(
        1_000_000 + relay.fee_proportional_millionths, 1_000_000)
    got = forward_amount(amount, relay)
    assert got == math.ceil(exact)
    assert got * (1_000_000 + relay.fee_proportional_millionths) >= \
        (amount - relay.fee_base_msat) * 1_000_000


@given(st.lists(st.builds(EncryptedData, path_id=st.binary(max_size=600),
                          padding=st.none() | st.binary(max_size=3)), min_size=1, max_size=8))
def test_padding_equalises(datas: list[EncryptedData]) -> None:
    padded = pad_equal(datas)
    assert len({len(p.encode()) for p in padded}) == 1
    assert [p.path_id for p in padded] == [d.path_id for d in datas]
    longest = max(len(_without_padding(d).encode()) for d in datas)
    assert len(padded[0].encode()) <= longest + 6
