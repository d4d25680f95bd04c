"""The onion-wrapped return packet (BOLT 4 › Returning Errors; BOLT 2 › Removing an HTLC):
one function per node's task, the erring node (`create_failure`), each relaying node
(`wrap_failure`) and the origin (`decrypt_failure`).

The return packet is
hmac ‖ u16 failure_len ‖ failuremsg ‖ u16 pad_len ‖ pad, with failure_len + pad_len ≥ 256
(SHOULD be 256); the HMAC is keyed with the erring node's `um` and the whole packet is XORed
with the `ammag` stream of every node on the way back. The origin strips the layers in route
order and names the first hop whose HMAC verifies.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sphinxamp._codes import BADONION, FAILURE_CODES
from sphinxamp.errors import DecodeError, EncodeError, InvalidArgument, SphinxampError
from sphinxamp.failures._attribution import (
    HopAttribution,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.failures._message import FailureMessage, FieldValue, resolve_code
from sphinxamp.primitives import _crypto as crypto

HMAC_SIZE = 32
PAD_TO = 256  # failure_len + pad_len (BOLT 4: MUST be ≥ 256, SHOULD be exactly 256)
# BOLT 4 › Origin node: keep stripping with constant keys until 27 iterations, so the time
# taken does not reveal the route length or the erring position.
ORIGIN_ITERATIONS = 27
_FILLER_SECRET = bytes(32)


# --- the return packet ---------------------------------------------------------------------


def _secret(shared_secret: bytes) -> bytes:
    if len(shared_secret) != 32:
        raise InvalidArgument("a shared secret is 32 bytes", field="shared_secret",
                              reason="wrong_length")
    return bytes(shared_secret)


def _obfuscate(shared_secret: bytes, packet: bytes) -> bytes:
    return crypto.chacha20(crypto.derive_key(crypto.KEY_AMMAG, shared_secret), packet)


def build_return_packet(shared_secret: bytes, message: bytes | FailureMessage,
                        pad_to: int = PAD_TO) -> bytes:
    """The erring node's packet before obfuscation: HMAC(um) ‖ len ‖ msg ‖ pad_len ‖ zeros.
    The message is padded so failure_len + pad_len = max(`pad_to`, failure_len)."""
    msg = message.encode() if isinstance(message, FailureMessage) else bytes(message)
    if pad_to < PAD_TO:
        raise InvalidArgument(f"failure_len + pad_len must be at least {PAD_TO}",
                              field="pad_to", reason="range")
    pad = max(0, pad_to - len(msg))
    if len(msg) > 0xFFFF or pad > 0xFFFF:
        raise EncodeError("failure message or padding longer than a u16 length",
                          field="failuremsg", reason="length")
    body = len(msg).to_bytes(2, "big") + msg + pad.to_bytes(2, "big") + bytes(pad)
    um = crypto.derive_key(crypto.KEY_UM, _secret(shared_secret))
    return crypto.hmac_sha256(um, body) + body


def _failure_packet(shared_secret: bytes, message: bytes | FailureMessage,
                    pad_to: int = PAD_TO) -> bytes:
    """`update_fail_htlc.reason` as the erring node sends it, without attribution data."""
    return _obfuscate(shared_secret, build_return_packet(shared_secret, message, pad_to))


@dataclass(frozen=True, slots=True)
class FailureReply:
    """`update_fail_htlc`'s `reason` and its `attribution_data` TLV (None if not sent)."""

    packet: bytes
    attribution_data: bytes | None = None


def create_failure(shared_secret: bytes, message: bytes | FailureMessage, *,
                   hold_time: int = 0, attribution: bool = True,
                   pad_to: int = PAD_TO) -> FailureReply:
    """The erring node's packet and, with `attribution`, its attribution data (hold time
    in units of 100 ms)."""
    raw = build_return_packet(shared_secret, message, pad_to)
    data = create_attribution(shared_secret, hold_time, raw) if attribution else None
    return FailureReply(_obfuscate(shared_secret, raw), data)


def wrap_failure(shared_secret: bytes, packet: bytes, attribution_data: bytes | None = None,
                 *, hold_time: int = 0, attribution: bool = True) -> FailureReply:
    """An intermediate node's relay of a failure; with `attribution` it adds its hold time
    and HMACs (starting from zeros when downstream sent no attribution data)."""
    data = wrap_attribution(shared_secret, hold_time, attribution_data, bytes(packet)) \
        if attribution else None
    return FailureReply(_obfuscate(_secret(shared_secret), bytes(packet)), data)


def failure_from_malformed(shared_secret: bytes, sha256_of_onion: bytes, code: int | str, *,
                           pad_to: int = PAD_TO) -> bytes:
    """BOLT 2 › Removing an HTLC: the node upstream of an `update_fail_malformed_htlc` turns
    (sha256_of_onion, BADONION code) into a failure packet under its own shared secret."""
    number = resolve_code(code)
    if not number & BADONION:
        raise InvalidArgument(f"update_fail_malformed_htlc needs a BADONION code, got "
                              f"{number:#06x}", field="failure_code", reason="not_badonion")
    if len(sha256_of_onion) != 32:
        raise InvalidArgument("sha256_of_onion is 32 bytes", field="sha256_of_onion",
                              reason="wrong_length")
    message = FailureMessage(number, {"sha256_of_onion": bytes(sha256_of_onion)}
                             if number in FAILURE_CODES else {},
                             extra=b"" if number in FAILURE_CODES else bytes(sha256_of_onion))
    return _failure_packet(shared_secret, message, pad_to)


# --- the origin ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecryptedFailure:
    """The origin's reading of a return packet. `hop_index` is the route position whose
    HMAC verified (0 = first hop), None when none did (unattributable). `error` says why a
    verified packet's message did not parse; `attribution` is the per-hop verdict of the
    attribution data (None when there was none, or `attribution_error` says why)."""

    hop_index: int | None
    message: FailureMessage | None = None
    failure_message: bytes | None = None
    error: DecodeError | None = None
    attribution: tuple[HopAttribution, ...] | None = None
    attribution_error: DecodeError | None = None

    @property
    def attributable(self) -> bool:
        return self.hop_index is not None

    @property
    def failure_code(self) -> int | None:
        return None if self.message is None else self.message.code


def _strip_all(packet: bytes, secrets: Sequence[bytes]) -> tuple[int | None, list[bytes]]:
    """Remove every layer in route order; the first HMAC that verifies names the hop. The
    same work is done for ORIGIN_ITERATIONS layers whatever the route length."""
    found: int | None = None
    views: list[bytes] = []
    current = bytes(packet)
    for i in range(max(ORIGIN_ITERATIONS, len(secrets))):
        secret = secrets[i] if i < len(secrets) else _FILLER_SECRET
        current = _obfuscate(secret, current)
        um = crypto.derive_key(crypto.KEY_UM, secret)
        ok = hmac.compare_digest(crypto.hmac_sha256(um, current[HMAC_SIZE:]),
                                 current[:HMAC_SIZE])
        if i < len(secrets):
            views.append(current)
            if ok and found is None:
                found = i
    return found, views


def _read_message(view: bytes) -> tuple[bytes | None, FailureMessage | None, DecodeError | None]:
    if len(view) < HMAC_SIZE + 2:
        return None, None, DecodeError("return packet ends before failure_len",
                                       field="failure_len", offset=len(view), reason="truncated")
    length = int.from_bytes(view[HMAC_SIZE : HMAC_SIZE + 2], "big")
    start = HMAC_SIZE + 2
    if start + length > len(view):
        return None, None, DecodeError(f"failure_len {length} runs past the packet",
                                       field="failure_len", offset=HMAC_SIZE, reason="truncated")
    raw = view[start : start + length]
    try:
        return raw, FailureMessage.decode(raw), None
    except DecodeError as exc:
        return raw, None, exc


def decrypt_failure(packet: bytes, shared_secrets: Sequence[bytes],
                    attribution_data: bytes | None = None) -> DecryptedFailure:
    """The origin's decryption: names the erring hop, decodes its message and, given the
    attribution data, checks each hop up to the erring one (every hop when the packet is
    unattributable: the first bad HMAC then blames a hop), the first 20 at most on a route of
    up to 27 (BOLT 4 › Returning Errors: the data has 20 hop slots). Never raises for packet
    or attribution bytes."""
    secrets = [_secret(s) for s in shared_secrets]
    hop, views = _strip_all(packet, secrets)
    raw, message, error = _read_message(views[hop]) if hop is not None else (None, None, None)
    attribution, attribution_error = None, None
    if attribution_data is not None:
        try:
            attribution = verify_attribution(attribution_data, secrets, views,
                                             hops=None if hop is None else hop + 1)
        except DecodeError as exc:
            attribution_error = exc
    return DecryptedFailure(hop, message, raw, error, attribution, attribution_error)


# --- answering hop processing --------------------------------------------------------------


def failure_from_error(error: SphinxampError, shared_secret: bytes, *, pad_to: int = PAD_TO,
                       **fields: FieldValue) -> bytes:
    """The failure packet answering an error `process_hop` raised, in one call
    (`FailureMessage.from_error` makes its message).

    For a BADONION error the node itself answers `update_fail_malformed_htlc`
    (`error.sha256_of_onion`, `error.failure_code`); `shared_secret` is then the upstream
    node's, which makes the packet (as `failure_from_malformed`)."""
    return _failure_packet(shared_secret, FailureMessage.from_error(error, **fields), pad_to)


# --- names the package exported before; `sphinxamp._deprecated.MOVED` resolves them -------


def create_failure_packet(shared_secret: bytes, message: bytes | FailureMessage, *,
                          pad_to: int = PAD_TO) -> bytes:
    """Deprecated: `create_failure(shared_secret, message, attribution=False).packet`."""
    return _failure_packet(shared_secret, message, pad_to)


def wrap_failure_packet(shared_secret: bytes, packet: bytes) -> bytes:
    """Deprecated: `wrap_failure(shared_secret, packet, attribution=False).packet`."""
    return wrap_failure(shared_secret, packet, attribution=False).packet


def encode_failure_message(code: int | str, **fields: FieldValue) -> bytes:
    """Deprecated: `FailureMessage.create(code, fields).encode()`."""
    return FailureMessage.create(code, fields).encode()


def failure_message_from_error(error: SphinxampError, **fields: FieldValue) -> FailureMessage:
    """Deprecated: `FailureMessage.from_error(error, **fields)`."""
    return FailureMessage.from_error(error, **fields)
