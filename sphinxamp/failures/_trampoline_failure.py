"""Failures of trampoline payments (lightning/bolts#836 › Returning Errors and › Failure
Messages; LDK onion_utils.rs, process_onion_failure_inner and HTLCFailReason
get_encrypted_failure_packet; Eclair PaymentPacket.scala, buildHtlcFailure).

In the proposal's format a trampoline node's failure is wrapped twice: first with the `ammag`
of its trampoline shared secret (its HMAC keyed with that secret's `um`), then with the
`ammag` of its outer shared secret, so it reaches the origin through the outer route's layers.
The origin strips the outer route's layers first and, when no HMAC there verifies, goes on
with the trampoline onion's secrets: one pass over both lists names the erring node, an outer
hop or a trampoline node. In the legacy format (Eclair) a trampoline node wraps with its
outer secret only: its failure is for the previous trampoline node (the origin, for the
first), which answers with a failure of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from sphinxamp._codes import NODE, PERM, FailureCode
from sphinxamp.errors import InvalidArgument, SphinxampError, TrampolineFeeOrExpiryInsufficient
from sphinxamp.failures._message import FailureMessage, FieldValue, _decode_field, _encode_field
from sphinxamp.failures._packet import (
    DecryptedFailure,
    _obfuscate,
    _secret,
    build_return_packet,
    decrypt_failure,
)
from sphinxamp.wire._records import TRAMPOLINE_PROFILES

_FEE_FIELDS = (("fee_base_msat", "u32"), ("fee_proportional_millionths", "u32"),
               ("cltv_expiry_delta", "u16"))
# The proposal's codes (› Failure Messages as it amends them; LDK LocalHTLCFailureReason) and
# Eclair's earlier ones (FailureMessage.scala: TrampolineFeeInsufficient NODE|51,
# TrampolineExpiryTooSoon NODE|52). BOLT 4 has assigned none of them, so the BOLT 4 table
# (`sphinxamp.failures.FAILURE_CODES`) does not hold them.
_TABLE = {c.code: c for c in (
    FailureCode(NODE | 25, "temporary_trampoline_failure"),
    FailureCode(NODE | 26, "trampoline_fee_or_expiry_insufficient", _FEE_FIELDS),
    FailureCode(PERM | 27, "unknown_next_trampoline"),
    FailureCode(NODE | 51, "trampoline_fee_insufficient"),
    FailureCode(NODE | 52, "trampoline_expiry_too_soon"),
)}
TRAMPOLINE_FAILURE_CODES: Mapping[int, FailureCode] = MappingProxyType(_TABLE)
_BY_NAME = {c.name: c.code for c in _TABLE.values()}


def trampoline_failure_message(code: int | str, **fields: int) -> FailureMessage:
    """A failure message with a trampoline code (number or name) and its fields, e.g.
    `trampoline_fee_or_expiry_insufficient` with fee_base_msat,
    fee_proportional_millionths and cltv_expiry_delta."""
    number = _BY_NAME.get(code) if isinstance(code, str) else code
    spec = None if number is None else _TABLE.get(number)
    if spec is None:
        raise InvalidArgument(f"{code!r} is not a trampoline failure code", field="code",
                              reason="unknown_code")
    names = [name for name, _ in spec.fields]
    if sorted(fields) != sorted(names):
        raise InvalidArgument(f"{spec.name} takes {names}, got {sorted(fields)}",
                              field="fields", reason="fields")
    data = b"".join(_encode_field(name, wire, fields[name]) for name, wire in spec.fields)
    return FailureMessage(spec.code, {}, (), data)


def trampoline_failure_from_error(error: SphinxampError) -> FailureMessage:
    """The message answering a trampoline refusal (`TemporaryTrampolineFailure`,
    `TrampolineFeeOrExpiryInsufficient` with the node's policy, `UnknownNextTrampoline`);
    any other error's message is `FailureMessage.from_error`'s."""
    if error.failure_code not in _TABLE:
        return FailureMessage.from_error(error)
    if isinstance(error, TrampolineFeeOrExpiryInsufficient):
        return trampoline_failure_message(
            error.failure_code, fee_base_msat=error.fee_base_msat,
            fee_proportional_millionths=error.fee_proportional_millionths,
            cltv_expiry_delta=error.cltv_expiry_delta)
    return trampoline_failure_message(error.failure_code)


def read_trampoline_failure(message: FailureMessage) -> tuple[str, dict[str, FieldValue]] | None:
    """(name, fields) of a message with a trampoline code, None for any other code.
    Fields that do not parse raise `DecodeError`; bytes after them are ignored, as BOLT 4's
    reader ignores them."""
    spec = _TABLE.get(message.code)
    if spec is None:
        return None
    data, pos, values = b"\0\0" + message.extra, 2, {}
    for name, wire in spec.fields:
        values[name], pos = _decode_field(data, pos, name, wire)
    return spec.name, values


def _double(profile: str) -> bool:
    if profile not in TRAMPOLINE_PROFILES:
        raise InvalidArgument(f"unknown trampoline profile {profile!r}", field="profile",
                              reason="unknown_profile")
    return profile == "trampoline"


def create_trampoline_failure(trampoline_shared_secret: bytes, outer_shared_secret: bytes,
                              message: bytes | FailureMessage, *,
                              profile: str = "trampoline") -> bytes:
    """The failure packet a trampoline node (or a trampoline recipient) sends upstream for an
    HTLC that carried a trampoline onion: built and obfuscated with its trampoline shared
    secret, then obfuscated with its outer one (proposal); built and obfuscated with the
    outer one only (legacy: Eclair buildHtlcFailure, LocalFailure). Without attribution
    data."""
    outer = _secret(outer_shared_secret)
    if not _double(profile):
        return _obfuscate(outer, build_return_packet(outer, message))
    inner = _secret(trampoline_shared_secret)
    return _obfuscate(outer, _obfuscate(inner, build_return_packet(inner, message)))


def wrap_trampoline_failure(packet: bytes, trampoline_shared_secret: bytes,
                            outer_shared_secret: bytes, *, profile: str = "trampoline") -> bytes:
    """A downstream failure passed on by an intermediate trampoline node: the `ammag` layer
    of its trampoline shared secret, then that of its outer one (proposal: "apply the
    obfuscation step twice"); the outer one only in the legacy format."""
    outer = _secret(outer_shared_secret)
    if not _double(profile):
        return _obfuscate(outer, bytes(packet))
    return _obfuscate(outer, _obfuscate(_secret(trampoline_shared_secret), bytes(packet)))


@dataclass(frozen=True, slots=True)
class RelayedFailure:
    """What an intermediate trampoline node sends upstream for a failure from its own route
    (`packet`), and what it read of it (`downstream`: the failure decrypted with its route's
    shared secrets; `downstream.hop_index` None when no hop of its route could be named, the
    failure of a later trampoline node). `replaced` says it answered with its own message."""

    packet: bytes
    downstream: DecryptedFailure
    replaced: bool


def relay_trampoline_failure(
    packet: bytes, downstream_shared_secrets: Sequence[bytes],
    trampoline_shared_secret: bytes, outer_shared_secret: bytes, *,
    profile: str = "trampoline", replacement: bytes | FailureMessage | None = None,
) -> RelayedFailure:
    """The proposal's intermediate trampoline node: strip the `ammag` layers of the route it
    built (`downstream_shared_secrets`, in route order). A failure from a node of that route
    (an HMAC verifies) it replaces with its own, `replacement` (temporary_trampoline_failure
    unless given), created for the origin; a failure it cannot attribute comes from the next
    trampoline node or beyond, and it wraps that one twice. In the legacy format every
    failure is replaced (a later trampoline node's failure is encrypted for this node)."""
    secrets = [_secret(s) for s in downstream_shared_secrets]
    if not secrets:
        raise InvalidArgument("a relayed failure needs the shared secrets of the route it "
                              "came back on", field="downstream_shared_secrets",
                              reason="empty_route")
    downstream = decrypt_failure(packet, secrets)
    if downstream.hop_index is None and _double(profile):
        stripped = bytes(packet)
        for secret in secrets:
            stripped = _obfuscate(secret, stripped)
        return RelayedFailure(wrap_trampoline_failure(
            stripped, trampoline_shared_secret, outer_shared_secret, profile=profile),
            downstream, False)
    own = replacement if replacement is not None else trampoline_failure_message(
        "temporary_trampoline_failure")
    return RelayedFailure(create_trampoline_failure(
        trampoline_shared_secret, outer_shared_secret, own, profile=profile), downstream, True)


@dataclass(frozen=True, slots=True)
class TrampolineFailure:
    """The origin's reading of a trampoline payment's failure. `layer` is "outer" (a hop of
    the origin's own route, `index` its position) or "trampoline" (a trampoline node,
    `index` its position in the trampoline onion), None with `index` when no HMAC verified.
    `node_id` is that node's id when the origin named its nodes; `name` the failure's name,
    the trampoline codes included."""

    layer: str | None
    index: int | None
    node_id: bytes | None
    decrypted: DecryptedFailure

    @property
    def message(self) -> FailureMessage | None:
        return self.decrypted.message

    @property
    def failure_code(self) -> int | None:
        return self.decrypted.failure_code

    @property
    def name(self) -> str | None:
        message = self.decrypted.message
        if message is None:
            return None
        spec = _TABLE.get(message.code)
        return spec.name if spec is not None else message.name


def decrypt_trampoline_failure(
    packet: bytes, outer_shared_secrets: Sequence[bytes],
    trampoline_shared_secrets: Sequence[bytes], *,
    outer_nodes: Sequence[bytes] | None = None,
    trampoline_nodes: Sequence[bytes] | None = None,
) -> TrampolineFailure:
    """The origin of a trampoline payment names the erring node (the proposal: "first
    iteratively decrypts the error message using the keys derived from the outer onion's
    shared secrets. If the result does not match the hmac field, it then continues
    decrypting using the keys derived from the trampoline onion's shared secrets"). Never
    raises for packet bytes."""
    outer = [_secret(s) for s in outer_shared_secrets]
    inner = [_secret(s) for s in trampoline_shared_secrets]
    for nodes, secrets, name in ((outer_nodes, outer, "outer_nodes"),
                                 (trampoline_nodes, inner, "trampoline_nodes")):
        if nodes is not None and len(nodes) != len(secrets):
            raise InvalidArgument(f"{name} names {len(nodes)} nodes for {len(secrets)} "
                                  "shared secrets", field=name, reason="length_mismatch")
    decrypted = decrypt_failure(packet, [*outer, *inner])
    index, layer, node = decrypted.hop_index, None, None
    if index is not None:
        layer, names = ("outer", outer_nodes) if index < len(outer) else ("trampoline",
                                                                          trampoline_nodes)
        index = index if layer == "outer" else index - len(outer)
        node = None if names is None else bytes(names[index])
    return TrampolineFailure(layer, index, node, decrypted)


__all__ = [
    "TRAMPOLINE_FAILURE_CODES",
    "RelayedFailure",
    "TrampolineFailure",
    "create_trampoline_failure",
    "decrypt_trampoline_failure",
    "read_trampoline_failure",
    "relay_trampoline_failure",
    "trampoline_failure_from_error",
    "trampoline_failure_message",
    "wrap_trampoline_failure",
]
