"""The data of BOLT 12 records, laid out as fields: truncated integers, points, hashes,
signatures, UTF-8 text and the subtypes `blinded_path` (BOLT 4 › Route Blinding),
`blinded_payinfo` and `fallback_address` (BOLT 12 › Invoices) and `invreq_bip_353_name`
(BOLT 12 › TLV Fields for `invoice_request`).

Nothing here raises for the bytes: each value yields `Problem`s (an offset within the value
and what is wrong), the table in `_bolt12` decides what they mean for the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sphinxamp._explain._tree import Field
from sphinxamp.errors import DecodeError
from sphinxamp.primitives._crypto import is_valid_point


@dataclass(frozen=True, slots=True)
class Problem:
    """What does not parse in a value, at `offset` bytes into it."""

    offset: int
    message: str


class _Reader:
    """A cursor over one value: fields at their input offsets; truncation raises
    `DecodeError` (caught by `parse_value`), a bad point is a problem and reading goes on."""

    __slots__ = ("base", "decrypted", "pos", "problems", "raw")

    def __init__(self, raw: bytes, base: int, decrypted: bool) -> None:
        self.raw, self.base, self.decrypted = raw, base, decrypted
        self.pos = 0
        self.problems: list[Problem] = []

    @property
    def left(self) -> int:
        return len(self.raw) - self.pos

    def take(self, name: str, size: int, meaning: str = "") -> Field:
        if size > self.left:
            raise DecodeError(f"{name} needs {size} bytes, {self.left} left", field=name,
                              offset=self.pos, reason="truncated")
        f = Field(name, self.base + self.pos, self.raw[self.pos : self.pos + size], meaning,
                  decrypted=self.decrypted)
        self.pos += size
        return f

    def integer(self, name: str, size: int) -> Field:
        f = self.take(name, size)
        f.value = int.from_bytes(f.raw, "big")
        f.meaning = f"u{8 * size} = {f.value}" if size > 1 else f"byte = {f.value}"
        return f

    def point(self, name: str) -> Field:
        f = self.take(name, 33)
        if is_valid_point(f.raw):
            f.meaning = "secp256k1 point, compressed"
        else:
            f.meaning = "NOT a valid secp256k1 point"
            self.problems.append(Problem(f.offset - self.base, f"{name} is not a valid point"))
        return f


def _truncated_int(raw: bytes, width: int) -> tuple[str, int | None, list[Problem]]:
    """BOLT 1 › Fundamental Types: a tu64/tu32 is at most its width, without a leading zero."""
    kind = f"tu{8 * width}"
    if len(raw) > width:
        return f"{kind}, {len(raw)} bytes: longer than {width}", None, [
            Problem(0, f"a {kind} is at most {width} bytes, got {len(raw)}")]
    value = int.from_bytes(raw, "big")
    if raw[:1] == b"\0":
        return f"{kind} = {value} (leading zero: not minimal)", value, [
            Problem(0, f"{kind} is not minimal (leading zero byte)")]
    return f"{kind} = {value}", value, []


def _fixed(raw: bytes, size: int, what: str) -> tuple[str, list[Problem]]:
    if len(raw) != size:
        return f"{what}, {len(raw)} bytes", [Problem(0, f"a {what} is {size} bytes, got "
                                                        f"{len(raw)}")]
    return what, []


def _utf8(raw: bytes) -> tuple[str, str | None, list[Problem]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"{len(raw)} bytes, NOT UTF-8", None, [Problem(exc.start, "not valid UTF-8")]
    return f"UTF-8 {text[:80]!r}" + ("…" if len(text) > 80 else ""), text, []


def _scalar(kind: str, value: Field) -> list[Problem]:
    raw = value.raw
    if kind in ("tu64", "tu32"):
        value.meaning, value.value, problems = _truncated_int(raw, 8 if kind == "tu64" else 4)
        return problems
    if kind == "utf8":
        value.meaning, value.value, problems = _utf8(raw)
        return problems
    if kind == "point":
        if len(raw) == 33 and is_valid_point(raw):
            value.meaning = "secp256k1 point, compressed"
            return []
        value.meaning = "NOT a valid secp256k1 point"
        return [Problem(0, f"not a valid compressed point ({len(raw)} bytes)")]
    sizes = {"chain_hash": (32, "chain_hash"), "sha256": (32, "sha256"),
             "bip340sig": (64, "BIP 340 signature (not verified)")}
    if kind in sizes:
        value.meaning, problems = _fixed(raw, *sizes[kind])
        return problems
    value.meaning = f"{len(raw)} bytes"
    return []


def _chains(r: _Reader) -> None:
    if len(r.raw) % 32:
        r.problems.append(Problem(0, f"{len(r.raw)} bytes is not a whole number of "
                                     "32-byte chain hashes"))
    i = 0
    while r.left >= 32:
        r.take(f"chain[{i}]", 32, "chain_hash")
        i += 1


def _sciddir_or_pubkey(r: _Reader) -> Field:
    # BOLT 4 › Route Blinding: first_node_id is a sciddir_or_pubkey, 9 bytes when the first
    # byte is 0 or 1 (direction ‖ short_channel_id), else a 33-byte point.
    if r.left and r.raw[r.pos] in (0, 1):
        return r.take("first_node_id", 9, "sciddir: direction ‖ short_channel_id")
    return r.point("first_node_id")


def _blinded_path(r: _Reader, index: int, out: list[Field]) -> None:
    start = r.pos
    path = Field(f"path[{index}]", r.base + start, b"", "blinded_path", decrypted=r.decrypted)
    out.append(path)
    try:
        path.children.append(_sciddir_or_pubkey(r))
        path.children.append(r.point("first_path_key"))
        hops = r.integer("num_hops", 1)
        path.children.append(hops)
        if hops.value == 0:
            r.problems.append(Problem(hops.offset - r.base, "num_hops is 0: the reader must "
                                                            "refuse (BOLT 12)"))
        for i in range(hops.value):
            path.children.append(r.point(f"blinded_node_id[{i}]"))
            enclen = r.integer(f"enclen[{i}]", 2)
            path.children.append(enclen)
            path.children.append(r.take(f"encrypted_recipient_data[{i}]", enclen.value,
                                        "for that hop only"))
    finally:
        path.raw = r.raw[start : r.pos]


def _payinfo(r: _Reader, index: int, out: list[Field]) -> None:
    start = r.pos
    info = Field(f"payinfo[{index}]", r.base + start, b"", "blinded_payinfo",
                 decrypted=r.decrypted)
    out.append(info)
    try:
        for name, size in (("fee_base_msat", 4), ("fee_proportional_millionths", 4),
                           ("cltv_expiry_delta", 2), ("htlc_minimum_msat", 8),
                           ("htlc_maximum_msat", 8)):
            info.children.append(r.integer(name, size))
        flen = r.integer("flen", 2)
        info.children.append(flen)
        info.children.append(r.take("features", flen.value, "feature bits"))
    finally:
        info.raw = r.raw[start : r.pos]


def _fallback(r: _Reader, index: int, out: list[Field]) -> None:
    start = r.pos
    fb = Field(f"fallback[{index}]", r.base + start, b"", "fallback_address",
               decrypted=r.decrypted)
    out.append(fb)
    try:
        fb.children.append(r.integer("version", 1))
        length = r.integer("len", 2)
        fb.children.append(length)
        fb.children.append(r.take("address", length.value, "witness program"))
    finally:
        fb.raw = r.raw[start : r.pos]


Reader = Callable[[_Reader, list[Field]], None]


def _list(item: Callable[[_Reader, int, list[Field]], None]) -> Reader:
    """Items until the value ends; a cut item stays in `out` as far as it read."""
    def read(r: _Reader, out: list[Field]) -> None:
        while r.left:
            item(r, len(out), out)
    return read


_BIP353_CHARS = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.")


def _bip_353_name(r: _Reader, out: list[Field]) -> None:
    for part in ("name", "domain"):
        size = r.integer(f"{part}_len", 1)
        out.append(size)
        text = r.take(part, size.value)
        text.meaning = f"{text.raw.decode('ascii', 'replace')!r}"
        if not set(text.raw) <= _BIP353_CHARS:
            r.problems.append(Problem(text.offset - r.base, f"{part} holds a byte outside "
                                                            "0-9 a-z A-Z - _ ."))
        out.append(text)


_STRUCTURED: dict[str, Reader] = {
    "blinded_paths": _list(_blinded_path),
    "blinded_payinfo": _list(_payinfo),
    "fallback_address": _list(_fallback),
    "bip_353_name": _bip_353_name,
}


def parse_value(kind: str, value: Field, decrypted: bool) -> list[Problem]:
    """Lay `value` out as BOLT 12 data `kind` (its meaning, value and parts); its problems."""
    structured = _STRUCTURED.get(kind)
    if structured is None and kind != "chains":
        return _scalar(kind, value)
    r = _Reader(value.raw, value.offset, decrypted)
    try:
        if structured is None:
            _chains(r)
        else:
            structured(r, value.children)
    except DecodeError as exc:
        r.problems.append(Problem(exc.offset or 0, exc.message))
    if r.left and not r.problems:
        r.problems.append(Problem(r.pos, f"{r.left} bytes follow the {kind}"))
    value.meaning = f"{kind}, {len(value.raw)} bytes"
    return r.problems
