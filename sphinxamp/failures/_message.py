"""The failure message (BOLT 4 › Failure Messages): u16 `failure_code` ‖ the code's fixed
fields, in the order and wire types of the one table (`_codes.FAILURE_CODES`) ‖ an optional
TLV stream. The reader keeps what it cannot read as TLV (BOLT 4: it MUST ignore it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sphinxamp._codes import CODES_BY_NAME, FAILURE_CODES, FLAG_NAMES, failure_name
from sphinxamp.errors import DecodeError, EncodeError, InvalidArgument, SphinxampError, TlvError
from sphinxamp.wire._bigsize import decode_bigsize, encode_bigsize
from sphinxamp.wire._tlv import TlvRecord, decode_stream, encode_stream

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

    @classmethod
    def from_error(cls, error: SphinxampError, **fields: FieldValue) -> FailureMessage:
        """The message answering an error `process_hop` raised. invalid_onion_payload
        carries the error's TLV type and byte offset (BOLT 4 › Failure Messages: the type
        the failure narrows down to, 0 for either when it does not); a BADONION code the
        `sha256_of_onion` hop processing recorded; other fields (htlc_msat and height for
        incorrect_or_unknown_payment_details, …) come from `fields`, which take precedence."""
        code = error.failure_code
        if code is None:
            raise InvalidArgument(f"{type(error).__name__} carries no failure code",
                                  field="failure_code", reason="no_failure_code")
        spec = FAILURE_CODES.get(code)
        names = {n for n, _ in spec.fields} if spec is not None else set()
        if "type" in names:
            fields.setdefault("type", error.tlv_type or 0)
            fields.setdefault("offset", error.offset or 0)
        if "sha256_of_onion" in names and error.sha256_of_onion is not None:
            fields.setdefault("sha256_of_onion", error.sha256_of_onion)
        return cls.create(code, fields)

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
