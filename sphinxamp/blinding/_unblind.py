"""A hop inside a blinded route (BOLT 4 › Route Blinding › reader; › `payload` format ›
Requirements), and the sender's side of a payment into one: decrypt and judge
`encrypted_recipient_data`, derive the next path key and what to forward, and build the
payment onion that enters the path.

Every refusal is an `EncryptedDataError` subclass (`_blinding.py`): `process_hop` answers it
as invalid_onion_blinding, an onion message is dropped for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sphinxamp._htlc import HtlcContext
from sphinxamp._payload import HopPayload
from sphinxamp.blinding._path import TAG_SIZE, BlindedPath, EncryptedData, PaymentRelay
from sphinxamp.errors import (
    AmountBelowMinimum,
    ConflictingNextHop,
    EncodeError,
    ExpiryAboveMaximum,
    FinalValuesMismatch,
    InvalidPathKey,
    MissingEncryptedData,
    MissingNextHop,
    MissingPaymentRelay,
    PathIdMismatch,
    RelayUnderflow,
    UndecryptableData,
    UnknownAllowedFeature,
)
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, BuiltOnion, build_onion
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import NodeKey, shared_secret

_FIELD = "encrypted_recipient_data"


@dataclass(frozen=True, slots=True)
class UnblindedData:
    """What hop i learns from its encrypted_recipient_data.

    `next_path_key` is the key to hand on: `next_path_key_override` when the data holds one,
    else `derived_next_path_key` = SHA256(E_i ‖ ss_i)·E_i."""

    data: EncryptedData
    plaintext: bytes
    shared_secret: bytes
    next_path_key: bytes
    derived_next_path_key: bytes


def decrypt_data(rho: bytes, encrypted: bytes) -> bytes:
    """The plaintext of encrypted_recipient_data, or `UndecryptableData`."""
    if len(encrypted) < TAG_SIZE:
        raise UndecryptableData(
            f"encrypted_recipient_data of {len(encrypted)} bytes cannot hold its "
            f"{TAG_SIZE}-byte tag", field=_FIELD, offset=len(encrypted), reason="too_short")
    plaintext = crypto.aead_decrypt(rho, encrypted)
    if plaintext is None:
        raise UndecryptableData("encrypted_recipient_data does not authenticate with rho "
                                "from ECDH(node key, path_key)", field=_FIELD,
                                reason="decryption_failed")
    return plaintext


def unblind(node_key: bytes | NodeKey, path_key: bytes, encrypted: bytes | None,
            blinding_secret: bytes | None = None) -> UnblindedData:
    """BOLT 4 › Route Blinding, the reader: ss_i = SHA256(k_i·E_i), rho_i =
    HMAC256("rho", ss_i), decrypt, decode; the next path key. The node key is only used
    for ECDH, so a key object serves as well as raw bytes; `blinding_secret` is ss_i when
    the peel already computed it (a path_key from the HTLC)."""
    point = crypto.parse_point(bytes(path_key))
    if point is None:
        raise InvalidPathKey("path_key is not a valid point", field="path_key",
                             reason="invalid_point")
    if encrypted is None:
        raise MissingEncryptedData("no encrypted_recipient_data inside a blinded route",
                                   field=_FIELD, reason="record_omitted")
    ss = blinding_secret if blinding_secret is not None else shared_secret(node_key, point)
    plaintext = decrypt_data(crypto.derive_key(crypto.KEY_RHO, ss), encrypted)
    data = EncryptedData.decode(plaintext)
    derived = crypto.serialize_point(crypto.point_mul(point, crypto.sha256(bytes(path_key) + ss)))
    nxt = data.next_path_key_override or derived
    return UnblindedData(data, plaintext, ss, nxt, derived)


def check_data(data: EncryptedData, *, final: bool, payment: bool = True,
               known_features: Iterable[int] = ()) -> None:
    """The reader rules on the data itself (BOLT 4 › `payload` Requirements, the reader, and
    › Onion Messages): known allowed_features bits only (no bit is defined for blinded paths
    yet), at a forwarding hop one next-hop field, and for a payment never both of them and,
    at a forwarding hop, payment_relay. The onion-message reader has no rule against both:
    it forwards by next_node_id when present (› Onion Messages, the reader)."""
    unknown = sorted(set(data.allowed_feature_bits) - set(known_features))
    if unknown:
        raise UnknownAllowedFeature(f"allowed_features sets unknown bit(s) {unknown}",
                                    field="allowed_features", tlv_type=14,
                                    reason="unknown_feature")
    if payment and data.short_channel_id is not None and data.next_node_id is not None:
        raise ConflictingNextHop("both short_channel_id and next_node_id", field=_FIELD,
                                 tlv_type=4, reason="both_next_hops")
    if final:
        return
    if data.short_channel_id is None and data.next_node_id is None:
        raise MissingNextHop("a forwarding hop needs short_channel_id or next_node_id",
                             field=_FIELD, tlv_type=2, reason="no_next_hop")
    if payment and data.payment_relay is None:
        raise MissingPaymentRelay("a forwarding hop needs payment_relay", field=_FIELD,
                                  tlv_type=10, reason="payment_relay_omitted")


def check_constraints(data: EncryptedData, amount_msat: int | None,
                      cltv_expiry: int | None) -> None:
    """payment_constraints against the incoming HTLC (what is not given is not checked)."""
    limits = data.payment_constraints
    if limits is None:
        return
    if cltv_expiry is not None and cltv_expiry > limits.max_cltv_expiry:
        raise ExpiryAboveMaximum(
            f"cltv_expiry {cltv_expiry} is above max_cltv_expiry {limits.max_cltv_expiry}",
            field="payment_constraints", tlv_type=12, reason="expiry_above_maximum")
    if amount_msat is not None and amount_msat < limits.htlc_minimum_msat:
        raise AmountBelowMinimum(
            f"amount {amount_msat} msat is below htlc_minimum_msat {limits.htlc_minimum_msat}",
            field="payment_constraints", tlv_type=12, reason="amount_below_minimum")


def forward_amount(amount_msat: int, relay: PaymentRelay) -> int:
    """BOLT 4: amt_to_forward = ((amount_msat − fee_base_msat)·10^6 + 10^6 +
    fee_proportional_millionths − 1) / (10^6 + fee_proportional_millionths), i.e. the
    ceiling of (amount − base) / (1 + proportional/10^6)."""
    if amount_msat < relay.fee_base_msat:
        raise RelayUnderflow(f"amount {amount_msat} msat is below fee_base_msat "
                             f"{relay.fee_base_msat}", field="payment_relay", tlv_type=10,
                             reason="amount_below_fee")
    divisor = 1_000_000 + relay.fee_proportional_millionths
    return ((amount_msat - relay.fee_base_msat) * 1_000_000 + divisor - 1) // divisor


def forward_cltv(cltv_expiry: int, relay: PaymentRelay) -> int:
    """outgoing_cltv_value = cltv_expiry − payment_relay.cltv_expiry_delta."""
    if cltv_expiry < relay.cltv_expiry_delta:
        raise RelayUnderflow(f"cltv_expiry {cltv_expiry} is below cltv_expiry_delta "
                             f"{relay.cltv_expiry_delta}", field="payment_relay", tlv_type=10,
                             reason="expiry_below_delta")
    return cltv_expiry - relay.cltv_expiry_delta


@dataclass(frozen=True, slots=True)
class BlindedPayInfo:
    """What the sender is told the blinded part costs (BOLT 4 › `payload` Requirements)."""

    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int


def aggregate_relay(relays: Sequence[PaymentRelay], min_final_cltv_expiry_delta: int = 0
                    ) -> BlindedPayInfo:
    """The path's total fee and delta, folded from the hop nearest the recipient outwards,
    each step rounded up as the spec writes it."""
    base = prop = 0
    for relay in reversed(relays):
        p = relay.fee_proportional_millionths
        base = (relay.fee_base_msat * 1_000_000 + base * (1_000_000 + p) + 999_999) // 1_000_000
        prop = ((prop + p) * 1_000_000 + prop * p + 999_999) // 1_000_000
    delta = sum(r.cltv_expiry_delta for r in relays) + min_final_cltv_expiry_delta
    return BlindedPayInfo(base, prop, delta)


@dataclass(frozen=True, slots=True)
class BlindedHopResult:
    """The route-blinding fields of `ProcessedHop` for one hop."""

    encrypted_data: EncryptedData
    next_path_key: bytes
    amt_to_forward: int | None
    outgoing_cltv_value: int | None


def blinded_payment_hop(node_key: bytes | NodeKey, path_key: bytes, payload: HopPayload, *,
                        final: bool, amount_msat: int | None = None,
                        cltv_expiry: int | None = None, blinding_secret: bytes | None = None,
                        context: HtlcContext | None = None) -> BlindedHopResult:
    """A payment hop inside a blinded route: unblind, apply every reader rule, and derive
    amt_to_forward and outgoing_cltv_value from payment_relay and the incoming HTLC's amount
    and expiry (forwarding hop), or take them from the payload (final hop). `context` holds
    the HTLC and the recipient's expectations (else the HTLC's `amount_msat` and
    `cltv_expiry`); process_hop requires what a hop needs, while a value left None here is
    not judged."""
    if context is None:
        context = HtlcContext(amount_msat, cltv_expiry)
    unblinded = unblind(node_key, path_key, payload.encrypted_recipient_data, blinding_secret)
    data = unblinded.data
    check_data(data, final=final, known_features=context.known_features)
    amount_msat, cltv_expiry = context.amount_msat, context.cltv_expiry
    check_constraints(data, amount_msat, cltv_expiry)
    if final:
        amount, cltv = payload.amt_to_forward, payload.outgoing_cltv_value
        _check_path_id(data, context.expected_path_id)
        _check_final(amount, cltv, context)
    else:
        relay = data.payment_relay
        assert relay is not None  # check_data refused its absence
        amount = None if amount_msat is None else forward_amount(amount_msat, relay)
        cltv = None if cltv_expiry is None else forward_cltv(cltv_expiry, relay)
    return BlindedHopResult(data, unblinded.next_path_key, amount, cltv)


def _check_path_id(data: EncryptedData, expected: bytes | None) -> None:
    """BOLT 4 › Route Blinding: the final recipient MUST ignore a path whose path_id does not
    match the one it created (compared in constant time: the path_id may hold a secret)."""
    if expected is not None and not hmac.compare_digest(data.path_id or b"", expected):
        raise PathIdMismatch("path_id is not the one this recipient created the path with",
                             field="path_id", tlv_type=6, reason="path_id_mismatch")


def _check_final(amount: int | None, cltv: int | None, context: HtlcContext) -> None:
    """The final node of a blinded route compares the HTLC with its payload and the height
    (BOLT 4 › `payload` Requirements), and answers a mismatch as invalid_onion_blinding like
    every other error inside the route."""
    incoming_cltv, incoming_amount = context.cltv_expiry, context.amount_msat
    if cltv is not None and incoming_cltv is not None and incoming_cltv < cltv:
        raise FinalValuesMismatch(f"cltv_expiry {incoming_cltv} is below outgoing_cltv_value "
                                  f"{cltv}", field="outgoing_cltv_value", tlv_type=4,
                                  reason="final_expiry_below_outgoing")
    if amount is not None and incoming_amount is not None and incoming_amount < amount:
        raise FinalValuesMismatch(f"amount {incoming_amount} msat is below amt_to_forward "
                                  f"{amount}", field="amt_to_forward", tlv_type=2,
                                  reason="final_amount_below_forward")
    height = context.current_block_height
    if height is not None and incoming_cltv is not None and \
            incoming_cltv < height + context.min_final_cltv_expiry_delta:
        raise FinalValuesMismatch(f"cltv_expiry {incoming_cltv} is below current_block_height "
                                  f"{height} + min_final_cltv_expiry_delta "
                                  f"{context.min_final_cltv_expiry_delta}", field="cltv_expiry",
                                  reason="expiry_too_soon")


# --- the sender: a payment onion into a blinded path ----------------------------------------


def blinded_payloads(path: BlindedPath, amount_msat: int, cltv_expiry: int,
                     total_amount_msat: int | None = None) -> list[tuple[bytes, HopPayload]]:
    """(node id to encrypt to, payload) for every hop of the path (BOLT 4 › `payload`
    Requirements, the writer): the introduction node by its real id with current_path_key,
    later hops by their blinded ids, encrypted_recipient_data everywhere, and amount,
    expiry and total_amount_msat at the final hop only."""
    out = []
    last = len(path.hops) - 1
    for i, hop in enumerate(path.hops):
        final = i == last
        payload = HopPayload(
            encrypted_recipient_data=hop.encrypted_recipient_data,
            current_path_key=path.first_path_key if i == 0 else None,
            amt_to_forward=amount_msat if final else None,
            outgoing_cltv_value=cltv_expiry if final else None,
            total_amount_msat=(amount_msat if total_amount_msat is None
                               else total_amount_msat) if final else None)
        out.append((path.first_node_id if i == 0 else hop.blinded_node_id, payload))
    return out


def build_blinded_payment_onion(
    session_key: bytes, associated_data: bytes, path: BlindedPath, *, amount_msat: int,
    cltv_expiry: int, total_amount_msat: int | None = None,
    prefix: Sequence[tuple[bytes, bytes | HopPayload]] = (),
    payload_area: int = PAYMENT_PAYLOAD_AREA,
) -> BuiltOnion:
    """A payment onion: the unblinded `prefix` [(node id, payload)] up to the introduction
    node (its last payload names the channel to it), then the blinded path, the final hop
    told `amount_msat`, `cltv_expiry` (its outgoing_cltv_value) and the total."""
    if not path.hops:
        raise EncodeError("the blinded path has no hops", field="path", reason="empty_path")
    hops = [(bytes(k), p.encode() if isinstance(p, HopPayload) else bytes(p)) for k, p in prefix]
    hops += [(k, p.encode()) for k, p in blinded_payloads(path, amount_msat, cltv_expiry,
                                                          total_amount_msat)]
    return build_onion(session_key, hops, associated_data, payload_area)
