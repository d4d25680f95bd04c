"""Failure messages and return packets as fields (BOLT 4 › Failure Messages, › Returning
Errors). The code's fixed fields come from the one code table (`_codes.FAILURE_CODES`); with
the route's shared secrets the packet is de-obfuscated in place (the ammag layers are a stream
cipher: offsets are kept) and the erring hop named."""

from __future__ import annotations

from sphinxamp._codes import FAILURE_CODES, FLAG_NAMES, failure_name
from sphinxamp._explain._kinds import Keys
from sphinxamp._explain._tlv import bigsize_field, tlv_fields
from sphinxamp._explain._tree import Explanation, Field, error_from
from sphinxamp.errors import DecodeError
from sphinxamp.failures._attribution import ATTRIBUTION_DATA_SIZE, HOLD_TIMES_SIZE, MAX_HOPS
from sphinxamp.failures._packet import PAD_TO, _strip_all

_MESSAGES = "BOLT 4 › Failure Messages"
_RETURN = "BOLT 4 › Returning Errors"
HMAC_SIZE = 32
MIN_PACKET = HMAC_SIZE + 2 + 2 + PAD_TO  # 292: hmac ‖ len ‖ msg ‖ pad_len ‖ pad, ≥ 256 inside
_WIDTH = {"u16": 2, "u32": 4, "u64": 8, "sha256": 32}


def _err(reason: str, message: str) -> DecodeError:
    return DecodeError(message, reason=reason)


def looks_like_message(data: bytes) -> bool:
    """A known code whose fixed fields fit exactly or are followed by a TLV stream."""
    if len(data) < 2 or int.from_bytes(data[:2], "big") not in FAILURE_CODES:
        return False
    scratch = Explanation("failure", data)
    failuremsg_field(data, 0, scratch, False)
    return scratch.error is None and not scratch.notes


def explain_failure(data: bytes, keys: Keys, ex: Explanation) -> None:
    if keys.shared_secrets:
        _return_packet(data, keys, ex)
    elif len(data) < MIN_PACKET or looks_like_message(data):
        ex.fields.append(failuremsg_field(data, 0, ex, False))
    else:
        ex.fields.append(Field("reason", 0, data, "return packet, obfuscated by every hop's "
                               "ammag stream"))
        ex.notes.append("an update_fail_htlc reason: give the route's shared secrets (in "
                        "route order) to decrypt it")


def _code_meaning(code: int) -> str:
    flags = "|".join(name for bit, name in FLAG_NAMES if code & bit) or "no flags"
    return f"{failure_name(code) or 'unknown code'} ({flags}|{code & 0xFF})"


def failuremsg_field(data: bytes, base: int, ex: Explanation, decrypted: bool) -> Field:
    """failure_code ‖ the code's fixed fields ‖ an optional TLV extension."""
    msg = Field("failuremsg", base, data, f"{len(data)} bytes", decrypted=decrypted)
    if len(data) < 2:
        ex.fail(error_from(_err("truncated", "failure message shorter than its u16 code"), base,
                           _MESSAGES, decrypted=decrypted))
        return msg
    code = int.from_bytes(data[:2], "big")
    msg.children.append(Field("failure_code", base, data[:2], f"u16 0x{code:04x}: "
                              + _code_meaning(code), code, decrypted=decrypted))
    spec = FAILURE_CODES.get(code)
    if spec is None:
        if len(data) > 2:
            msg.children.append(Field("data", base + 2, data[2:], "fields of a code the table "
                                      "does not know", decrypted=decrypted))
        return msg
    pos = 2
    for name, wire in spec.fields:
        got = _fixed(data, pos, base, name, wire, decrypted)
        if got is None:
            ex.fail(error_from(_err("truncated", f"ends inside {name}"), base + pos, _MESSAGES,
                               decrypted=decrypted))
            msg.children.append(Field(name, base + pos, data[pos:], f"{wire}, truncated",
                                      decrypted=decrypted))
            return msg
        msg.children.append(got)
        pos += got.length
    if pos < len(data):
        msg.children.append(_extension(data[pos:], base + pos, ex, decrypted))
    return msg


def _fixed(data: bytes, pos: int, base: int, name: str, wire: str,
           decrypted: bool) -> Field | None:
    if wire == "bigsize":
        try:
            f, _ = bigsize_field(name, data, pos, base)
        except DecodeError:
            return None
        f.decrypted = decrypted
        return f
    size = _WIDTH.get(wire)
    if size is None:  # channel_update: u16 len ‖ bytes
        if pos + 2 > len(data):
            return None
        size = 2 + int.from_bytes(data[pos : pos + 2], "big")
    raw = data[pos : pos + size]
    if len(raw) < size:
        return None
    value: int | None = int.from_bytes(raw, "big") if wire in ("u16", "u32", "u64") else None
    meaning = f"{wire} = {value}" if value is not None else (
        f"{wire}, {len(raw)} bytes" if wire == "sha256" else
        f"u16 length {size - 2} ‖ channel_update (BOLT 7)")
    return Field(name, base + pos, raw, meaning, value, decrypted=decrypted)


def _extension(rest: bytes, base: int, ex: Explanation, decrypted: bool) -> Field:
    """What follows the fixed fields: a TLV stream (BOLT 4: a reader ignores one that is
    not valid, so it is shown, never refused)."""
    scratch = Explanation("tlv", rest)
    records = tlv_fields(rest, base, None, scratch, decrypted=decrypted)
    if scratch.error is None:
        return Field("tlv_extension", base, rest, "failure message TLV extension",
                     children=records, decrypted=decrypted)
    ex.notes.append(f"{len(rest)} bytes after the fields are not a TLV stream (ignored, as "
                    f"BOLT 4 says): {scratch.error.message}")
    return Field("extra", base, rest, "not a TLV stream: ignored by the reader",
                 decrypted=decrypted)


def _return_packet(data: bytes, keys: Keys, ex: Explanation) -> None:
    """The origin's view: strip the layers in route order until one hop's um-HMAC verifies,
    then read hmac ‖ failure_len ‖ failuremsg ‖ pad_len ‖ pad."""
    secrets = list(keys.shared_secrets)
    hop, views = _strip_all(data, secrets)
    top = Field("reason", 0, data, "return packet")
    ex.fields.append(top)
    if hop is None:
        ex.fail(error_from(_err("unattributable", "no hop's HMAC verifies"), 0, _RETURN))
        return
    view = views[hop]
    top.meaning = f"return packet from hop {hop} (route position, 0 = first), decrypted"
    ex.notes.append(f"erring hop: {hop} (its um-HMAC verifies after {hop + 1} layers)")
    top.children.append(Field("hmac", 0, view[:32], f"HMAC-SHA256(um of hop {hop}): verified",
                              decrypted=True))
    if len(view) < 36:
        ex.fail(error_from(_err("truncated", "no failure_len"), 32, _RETURN, decrypted=True))
        return
    length = int.from_bytes(view[32:34], "big")
    top.children.append(Field("failure_len", 32, view[32:34], f"u16 = {length}", length,
                              decrypted=True))
    if 34 + length + 2 > len(view):
        ex.fail(error_from(_err("truncated", "failure_len runs past the packet"), 32, _RETURN,
                           decrypted=True))
        return
    top.children.append(failuremsg_field(view[34 : 34 + length], 34, ex, True))
    at = 34 + length
    pad_len = int.from_bytes(view[at : at + 2], "big")
    top.children.append(Field("pad_len", at, view[at : at + 2], f"u16 = {pad_len}", pad_len,
                              decrypted=True))
    top.children.append(Field("pad", at + 2, view[at + 2 :], "padding (failure_len + pad_len "
                              f"= {length + pad_len}, at least {PAD_TO})", decrypted=True))


def explain_attribution(data: bytes, keys: Keys, ex: Explanation) -> None:
    """attribution_data: 20 u32 hold times ‖ 210 truncated HMACs in blocks of 20, 19, … 1
    (BOLT 4 › Returning Errors › attribution_data), as they stand on the wire: each hop's
    ammagext layer still hides the values of the hops behind it."""
    top = Field("attribution_data", 0, data, f"{len(data)} bytes (as received: obfuscated)")
    ex.fields.append(top)
    if len(data) != ATTRIBUTION_DATA_SIZE:
        ex.fail(error_from(_err("wrong_length", f"{len(data)} bytes, expected "
                                f"{ATTRIBUTION_DATA_SIZE}"), 0, _RETURN))
        return
    holds = Field("hold_times", 0, data[:HOLD_TIMES_SIZE], "20 × u32, unit 100 ms")
    holds.children = [Field(f"hold_time[{i}]", 4 * i, data[4 * i : 4 * i + 4],
                            f"u32 = {int.from_bytes(data[4 * i : 4 * i + 4], 'big')}")
                      for i in range(MAX_HOPS)]
    hmacs = Field("hmacs", HOLD_TIMES_SIZE, data[HOLD_TIMES_SIZE:], "210 HMACs of 4 bytes")
    pos = HOLD_TIMES_SIZE
    for x in range(MAX_HOPS):
        size = 4 * (MAX_HOPS - x)
        hmacs.children.append(Field(f"block[{x}]", pos, data[pos : pos + size],
                                    f"{MAX_HOPS - x} HMACs of the node {x} hops downstream"))
        pos += size
    top.children = [holds, hmacs]
