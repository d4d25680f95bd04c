"""Failure messages and the onion-wrapped return packet (BOLT 4 › Returning Errors, ›
Failure Messages; BOLT 2 › Removing an HTLC).

A `failuremsg` is u16 `failure_code` ‖ the code's fixed fields (from the one table,
`_codes.FAILURE_CODES`) ‖ an optional TLV stream. The return packet is
hmac ‖ u16 failure_len ‖ failuremsg ‖ u16 pad_len ‖ pad, with failure_len + pad_len ≥ 256
(SHOULD be 256); the HMAC is keyed with the erring node's `um` and the whole packet is XORed
with the `ammag` stream of every node on the way back. The origin strips the layers in route
order and names the first hop whose HMAC verifies.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sphinxamp._codes import BADONION, CODES_BY_NAME, FAILURE_CODES, FLAG_NAMES, failure_name
from sphinxamp.errors import DecodeError, EncodeError, InvalidArgument, TlvError
from sphinxamp.failures._attribution import (
    HopAttribution,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._bigsize import decode_bigsize, encode_bigsize
from sphinxamp.wire._tlv import TlvRecord, decode_stream, encode_stream

HMAC_SIZE = 32
PAD_TO = 256  # failure_len + pad_len (BOLT 4: MUST be ≥ 256, SHOULD be exactly 256)
# BOLT 4 › Origin node: keep stripping with constant keys until 27 iterations, so the time
# taken does not reveal the route length or the erring position.
ORIGIN_ITERATIONS = 27
_FILLER_SECRET = bytes(32)
_UINT_WIDTH = {"u16": 2, "u32": 4, "u64": 8}

FieldValue = int | bytes


@dataclass(frozen=True, slots=True)
class FailureMessage:
    """A decoded `failuremsg`. For a code the table does not know, `fields` is empty and
    `extra` keeps every byte after the code; for a known code, `extra` keeps what follows the
    fixed fields when it is not a valid TLV stream (BOLT 4: the reader MUST ignore it)."""

    code: int
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    tlv: tuple[TlvRecord, ...] = ()
    extra: bytes = b""

    @property
    def name(self) -> str | None:
        return failure_name(self.code)

    @property
    def known(self) -> bool:
        return self.code in FAILURE_CODES

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(name for bit, name in FLAG_NAMES if self.code & bit)

    @classmethod
    def create(cls, code: int | str, fields: Mapping[str, FieldValue] | None = None,
               tlv: Sequence[TlvRecord] = ()) -> FailureMessage:
        """A message for `code` (number or spec name). Fields of the table's code are
        required, except an absent `channel_update` (empty) and `disabled_flags` (0)."""
        number, fields = resolve_code(code), dict(fields or {})
        spec = FAILURE_CODES.get(number)
        if spec is None:
            if fields:
                raise InvalidArgument(f"code {number:#06x} has no known fields",
                                      field="fields", reason="unknown_field")
            return cls(number, {}, tuple(tlv))
        defaults: dict[str, FieldValue] = {"channel_update": b"", "disabled_flags": 0}
        names = [name for name, _ in spec.fields]
        unknown = set(fields) - set(names)
        missing = [n for n in names if n not in fields and n not in defaults]
        if unknown or missing:
            raise InvalidArgument(f"{spec.name} takes {names}; unknown {sorted(unknown)}, "
                                  f"missing {missing}", field="fields", reason="fields")
        values = {n: fields[n] if n in fields else defaults[n] for n in names}
        return cls(number, values, tuple(tlv))

    def encode(self) -> bytes:
        if not 0 <= self.code <= 0xFFFF:
            raise EncodeError(f"failure code {self.code} does not fit a u16",
                              field="failure_code", reason="range")
        parts = [self.code.to_bytes(2, "big")]
        spec = FAILURE_CODES.get(self.code)
        for name, wire in spec.fields if spec is not None else ():
            if name not in self.fields:
                raise EncodeError(f"{spec.name if spec else ''}: field {name} missing",
                                  field=name, reason="missing_field")
            parts.append(_encode_field(name, wire, self.fields[name]))
        parts += (encode_stream(self.tlv), bytes(self.extra))
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> FailureMessage:
        data = bytes(data)
        if len(data) < 2:
            raise DecodeError("failure message shorter than its u16 code", field="failure_code",
                              offset=0, reason="truncated")
        code = int.from_bytes(data[:2], "big")
        spec = FAILURE_CODES.get(code)
        if spec is None:
            return cls(code, {}, (), data[2:])
        pos, values = 2, {}
        for name, wire in spec.fields:
            values[name], pos = _decode_field(data, pos, name, wire)
        try:
            return cls(code, values, decode_stream(data[pos:], pos), b"")
        except TlvError:
            return cls(code, values, (), data[pos:])


def resolve_code(code: int | str) -> int:
    """A failure code given as a number or a spec name."""
    if isinstance(code, str):
        number = CODES_BY_NAME.get(code)
        if number is None:
            raise InvalidArgument(f"unknown failure code name {code!r}", field="failure_code",
                                  reason="unknown_code")
        return number
    if not 0 <= code <= 0xFFFF:
        raise InvalidArgument(f"failure code {code} does not fit a u16", field="failure_code",
                              reason="range")
    return code


def encode_failure_message(code: int | str, **fields: FieldValue) -> bytes:
    """The `failuremsg` bytes of `code` with its fields, e.g. for a receiver's Fail:
    `encode_failure_message("incorrect_or_unknown_payment_details", htlc_msat=…, height=…)`."""
    return FailureMessage.create(code, fields).encode()


def _encode_field(name: str, wire: str, value: FieldValue) -> bytes:
    if wire in _UINT_WIDTH or wire == "bigsize":
        width = _UINT_WIDTH.get(wire, 8)
        if not isinstance(value, int) or not 0 <= value < 1 << (8 * width):
            raise EncodeError(f"{name}: {value!r} is not a {wire}", field=name, reason="range")
        return encode_bigsize(value) if wire == "bigsize" else value.to_bytes(width, "big")
    if not isinstance(value, bytes | bytearray):
        raise EncodeError(f"{name}: expected bytes", field=name, reason="type")
    if wire == "sha256":
        if len(value) != 32:
            raise EncodeError(f"{name}: a sha256 is 32 bytes", field=name, reason="length")
        return bytes(value)
    if len(value) > 0xFFFF:  # channel_update: u16 len ‖ bytes
        raise EncodeError(f"{name}: longer than a u16 length", field=name, reason="length")
    return len(value).to_bytes(2, "big") + bytes(value)


def _decode_field(data: bytes, pos: int, name: str, wire: str) -> tuple[FieldValue, int]:
    if wire == "bigsize":
        return decode_bigsize(data, pos, name)
    size = _UINT_WIDTH.get(wire, 32 if wire == "sha256" else 2)
    if pos + size > len(data):
        raise DecodeError(f"failure message ends inside {name}", field=name, offset=pos,
                          reason="truncated")
    if wire in _UINT_WIDTH:
        return int.from_bytes(data[pos : pos + size], "big"), pos + size
    if wire == "sha256":
        return data[pos : pos + 32], pos + 32
    length = int.from_bytes(data[pos : pos + 2], "big")
    if pos + 2 + length > len(data):
        raise DecodeError(f"{name}: length {length} runs past the end", field=name,
                          offset=pos, reason="truncated")
    return data[pos + 2 : pos + 2 + length], pos + 2 + length


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


def create_failure_packet(shared_secret: bytes, message: bytes | FailureMessage, *,
                          pad_to: int = PAD_TO) -> bytes:
    """What the erring node puts in `update_fail_htlc.reason`."""
    return _obfuscate(shared_secret, build_return_packet(shared_secret, message, pad_to))


def wrap_failure_packet(shared_secret: bytes, packet: bytes) -> bytes:
    """An intermediate node's layer: XOR with its own `ammag` stream."""
    return _obfuscate(_secret(shared_secret), bytes(packet))


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
    return FailureReply(wrap_failure_packet(shared_secret, packet), data)


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
    return create_failure_packet(shared_secret, message, pad_to=pad_to)


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


# --- glue with hop processing ----------------------------------------------------------------


def failure_message_from_error(exc: Any, **fields: FieldValue) -> FailureMessage:
    """The failure message for an error `process_hop` raised: invalid_onion_payload carries
    the error's TLV type and offset, the BADONION codes its `sha256_of_onion`; other fields
    (htlc_msat and height for incorrect_or_unknown_payment_details, …) come from `fields`."""
    code = getattr(exc, "failure_code", None)
    if code is None:
        raise InvalidArgument(f"{type(exc).__name__} carries no failure code",
                              field="failure_code", reason="no_failure_code")
    spec = FAILURE_CODES.get(code)
    names = {n for n, _ in spec.fields} if spec is not None else set()
    if "type" in names:
        fields.setdefault("type", exc.tlv_type or 0)
        fields.setdefault("offset", exc.offset or 0)
    sha = getattr(exc, "sha256_of_onion", None)
    if "sha256_of_onion" in names and sha is not None:
        fields.setdefault("sha256_of_onion", sha)
    return FailureMessage.create(code, fields)


def failure_from_error(exc: Any, shared_secret: bytes, *, pad_to: int = PAD_TO,
                       **fields: FieldValue) -> bytes:
    """The failure packet answering an error `process_hop` raised, in one call.

    For a BADONION error the node itself answers `update_fail_malformed_htlc`
    (`exc.sha256_of_onion`, `exc.failure_code`); `shared_secret` is then the upstream
    node's, which makes the packet (as `failure_from_malformed`)."""
    message = failure_message_from_error(exc, **fields)
    return create_failure_packet(shared_secret, message, pad_to=pad_to)
