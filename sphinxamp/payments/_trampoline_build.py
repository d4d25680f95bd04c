"""Building trampoline payments (lightning/bolts#836 › Trampoline Payments › Requirements, the
sending node; Eclair TrampolinePaymentLifecycle.buildOutgoingPayment; LDK onion_utils.rs,
create_trampoline_forward_onion): the trampoline onion, with the payload area its format
uses, carried in the last payload of a payment onion to the first trampoline node.

The same construction serves a trampoline node relaying to the next one: it wraps the peeled
trampoline onion (`TrampolineHop.next_packet`) in an onion of its own route.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sphinxamp._payload import HopPayload
from sphinxamp.blinding._path import BlindedPath
from sphinxamp.errors import EncodeError, InvalidArgument
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, BuiltOnion, OnionPacket, build_onion
from sphinxamp.payments._trampoline import TrampolinePayload, trampoline_format
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._bigsize import encode_bigsize
from sphinxamp.wire._records import PaymentData

PayloadArea = int | Literal["format", "exact"]


@dataclass(frozen=True, slots=True)
class TrampolineCarrier:
    """The outer payload of the hop that receives a trampoline onion: what its HTLC must
    carry there (`amt_to_forward`, `outgoing_cltv_value`), the outer payment_secret and
    total for a multi-part payment to it (a random one, never the invoice's: the proposal's
    "MUST NOT use the invoice's payment_secret in the outer onion"), and, for a hop inside a
    blinded trampoline path that is not its introduction node, `current_path_key`."""

    amt_to_forward: int
    outgoing_cltv_value: int
    payment_secret: bytes | None = None
    total_msat: int | None = None
    current_path_key: bytes | None = None

    def payload(self, packet: OnionPacket | bytes, profile: str = "trampoline"
                ) -> TrampolinePayload:
        if self.total_msat is not None and self.payment_secret is None:
            raise InvalidArgument("total_msat travels with a payment_secret",
                                  field="total_msat", reason="needs_payment_secret")
        data = None if self.payment_secret is None else PaymentData(
            self.payment_secret,
            self.amt_to_forward if self.total_msat is None else self.total_msat)
        raw = packet.to_bytes() if isinstance(packet, OnionPacket) else bytes(packet)
        return TrampolinePayload(profile, amt_to_forward=self.amt_to_forward,
                                 outgoing_cltv_value=self.outgoing_cltv_value,
                                 payment_data=data, current_path_key=self.current_path_key,
                                 trampoline_onion_packet=raw)


@dataclass(frozen=True, slots=True)
class TrampolinePayment:
    """A trampoline payment as the sender (or a relaying trampoline node) builds it: the
    payment onion for its first hop and the trampoline onion inside it. The origin keeps both
    lists of shared secrets to read a failure (`decrypt_trampoline_failure`)."""

    profile: str
    onion: BuiltOnion
    trampoline: BuiltOnion

    @property
    def outer_shared_secrets(self) -> tuple[bytes, ...]:
        return self.onion.shared_secrets

    @property
    def trampoline_shared_secrets(self) -> tuple[bytes, ...]:
        return self.trampoline.shared_secrets

    def to_bytes(self) -> bytes:
        return self.onion.to_bytes()


def _encoded(payload: bytes | TrampolinePayload | HopPayload, profile: str) -> bytes:
    if isinstance(payload, TrampolinePayload):
        if payload.profile != profile:
            raise InvalidArgument(f"a {payload.profile!r} payload in a {profile!r} onion",
                                  field="hops", reason="profile_mismatch")
        return payload.encode()
    return payload.encode() if isinstance(payload, HopPayload) else bytes(payload)


def exact_payload_area(payloads: Sequence[bytes]) -> int:
    """What the hops take: each payload with its BigSize length and its 32-byte HMAC."""
    return sum(len(encode_bigsize(len(p))) + len(p) + 32 for p in payloads)


def build_trampoline_onion(
    session_key: bytes, hops: Sequence[tuple[bytes, bytes | TrampolinePayload]],
    associated_data: bytes, *, profile: str = "trampoline",
    payload_area: PayloadArea = "format",
) -> BuiltOnion:
    """The trampoline onion: a Sphinx packet over the trampoline hops [(node id, payload)],
    with the payment's `associated_data` (its payment_hash) as the outer onion's.
    `payload_area` is the hop_payloads size: "format" (the format's: exactly what the
    payloads take for the proposal, 400 bytes for the legacy format), "exact", or bytes;
    anything larger than the payloads is filled from the `pad` stream (the proposal: "MAY add
    trailing filler data")."""
    fmt = trampoline_format(profile)
    payloads = [(bytes(node), _encoded(p, profile)) for node, p in hops]
    exact = exact_payload_area([p for _, p in payloads])
    if payload_area == "format":
        area = exact if fmt.payload_area is None else fmt.payload_area
    elif payload_area == "exact":
        area = exact
    elif isinstance(payload_area, int) and not isinstance(payload_area, bool):
        area = payload_area
    else:
        raise InvalidArgument(f"payload_area is 'format', 'exact' or a size, got "
                              f"{payload_area!r}", field="payload_area", reason="type")
    if area >= PAYMENT_PAYLOAD_AREA:
        # LDK construct_trampoline_onion_packet: it must fit the outer onion's payload.
        raise EncodeError(f"a {area}-byte trampoline payload area cannot fit in a payment "
                          "onion", field="payload_area", reason="route_too_long")
    return build_onion(session_key, payloads, associated_data, area)


def wrap_trampoline_onion(
    session_key: bytes, route: Sequence[tuple[bytes, bytes | HopPayload]],
    trampoline_node_id: bytes, carrier: TrampolineCarrier, packet: OnionPacket | bytes,
    associated_data: bytes, *, profile: str = "trampoline",
    payload_area: int = PAYMENT_PAYLOAD_AREA,
) -> BuiltOnion:
    """The payment onion that carries `packet` to `trampoline_node_id`: `route` [(node id,
    payload)] are the hops before it (their last payload names the channel to it), and the
    trampoline node's own payload is `carrier` with the packet in the format's record (TLV
    20, or 66100 for the legacy format): the proposal's "MUST include the
    trampoline_onion_packet tlv in the _last_ hop's payload of the onion_packet"."""
    trampoline_format(profile)
    hops = [(bytes(node), _encoded(p, profile)) for node, p in route]
    hops.append((bytes(trampoline_node_id), carrier.payload(packet, profile).encode()))
    return build_onion(session_key, hops, associated_data, payload_area)


def trampoline_session_key(session_key: bytes) -> bytes:
    """A trampoline session key derived from the outer one, as LDK does (onion_utils.rs,
    compute_trampoline_session_priv: SHA256 of the outer session key): the two keys differ,
    as the proposal requires, and the sender has one secret to keep."""
    crypto.check_secret(session_key, "session_key")
    return crypto.sha256(bytes(session_key))


def build_trampoline_payment(
    session_key: bytes, route: Sequence[tuple[bytes, bytes | HopPayload]],
    trampoline_hops: Sequence[tuple[bytes, bytes | TrampolinePayload]],
    associated_data: bytes, carrier: TrampolineCarrier, *, profile: str = "trampoline",
    trampoline_session: bytes | None = None, trampoline_payload_area: PayloadArea = "format",
) -> TrampolinePayment:
    """A whole trampoline payment: the trampoline onion over `trampoline_hops` (the first is
    the trampoline node `route` leads to) inside the payment onion over `route`.
    `trampoline_session` defaults to `trampoline_session_key(session_key)`."""
    if not trampoline_hops:
        raise EncodeError("a trampoline payment needs a trampoline node",
                          field="trampoline_hops", reason="empty_route")
    inner_key = trampoline_session or trampoline_session_key(session_key)
    if inner_key == session_key:
        raise InvalidArgument("the trampoline onion needs its own session key",
                              field="trampoline_session", reason="same_session_key")
    inner = build_trampoline_onion(inner_key, trampoline_hops, associated_data,
                                   profile=profile, payload_area=trampoline_payload_area)
    outer = wrap_trampoline_onion(session_key, route, trampoline_hops[0][0], carrier,
                                  inner.packet, associated_data, profile=profile)
    return TrampolinePayment(profile, outer, inner)


def blinded_trampoline_hops(
    path: BlindedPath, amount_msat: int, cltv_expiry: int,
    total_amount_msat: int | None = None,
) -> list[tuple[bytes, TrampolinePayload]]:
    """Trampoline hops through the recipient's blinded path (the proposal, paying a Bolt 12
    invoice that supports trampoline routing): the introduction node by its real id with
    encrypted_recipient_data and current_path_key, later nodes by their blinded ids with
    their encrypted_recipient_data only, and the recipient also told amt_to_forward,
    outgoing_cltv_value and, when given, total_amount_msat. Proposal format only."""
    if not path.hops:
        raise EncodeError("the blinded path has no hops", field="path", reason="empty_path")
    out = []
    last = len(path.hops) - 1
    for i, hop in enumerate(path.hops):
        final = i == last
        payload = TrampolinePayload(
            "trampoline", encrypted_recipient_data=hop.encrypted_recipient_data,
            current_path_key=path.first_path_key if i == 0 else None,
            amt_to_forward=amount_msat if final else None,
            outgoing_cltv_value=cltv_expiry if final else None,
            total_amount_msat=total_amount_msat if final else None)
        out.append((path.first_node_id if i == 0 else hop.blinded_node_id, payload))
    return out


__all__ = [
    "TrampolineCarrier",
    "TrampolinePayment",
    "blinded_trampoline_hops",
    "build_trampoline_onion",
    "build_trampoline_payment",
    "exact_payload_area",
    "trampoline_session_key",
    "wrap_trampoline_onion",
]
