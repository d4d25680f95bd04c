"""What `process_hop` returns for one incoming onion (BOLT 4 › Onion Decryption; › Route
Blinding), in a module of its own so the answer built from a whole `update_add_htlc`
(`_htlc_answer`) can name it without importing hop processing."""

from __future__ import annotations

from dataclasses import dataclass

from sphinxamp._payload import HopPayload, Role
from sphinxamp.blinding._path import EncryptedData
from sphinxamp.onion._sphinx import OnionPacket
from sphinxamp.payments._trampoline_peel import TrampolineHop


@dataclass(frozen=True, slots=True)
class ProcessedHop:
    """What a node makes of one incoming onion: the typed payload judged for its role, and
    what to forward (`next_packet`, None at the final hop).

    After `dummy_hops` > 0 (the recipient peeled its own dummy hops, BOLT 4 › Route
    Blinding) the payload, role, raw payload and blinded fields are the last layer's, while
    `shared_secret`, `path_key` and `introduction_node` stay those of the onion that arrived:
    the ones a failure or attribution data answers with."""

    payload: HopPayload
    role: Role
    introduction_node: bool
    shared_secret: bytes
    next_packet: OnionPacket | None
    raw_payload: bytes
    # Where the payload starts in the decrypted hop_payloads (after its BigSize length):
    # the reference point of invalid_onion_payload offsets.
    payload_offset: int
    # The path key in effect at this hop: the HTLC's, or current_path_key at an
    # introduction node; None outside a blinded route.
    path_key: bytes | None
    # Route blinding: the decrypted encrypted_recipient_data, the path key for the next
    # node, and the amount and expiry derived from payment_relay.
    encrypted_data: EncryptedData | None = None
    next_path_key: bytes | None = None
    amt_to_forward: int | None = None
    outgoing_cltv_value: int | None = None
    dummy_hops: int = 0
    # Under a trampoline profile, at the node a trampoline onion was for: its layer peeled
    # (the next trampoline onion, the node, amount and expiry to forward, or what to
    # receive). The outer onion ends here, so `is_final` holds even when the trampoline
    # onion goes on (`trampoline.action`).
    trampoline: TrampolineHop | None = None

    @property
    def is_final(self) -> bool:
        return self.next_packet is None


__all__ = ["ProcessedHop"]
