"""BOLT 4 Sphinx: packet framing, construction and peeling of onions of any payload-area size.

This module moves opaque payload bytes; it never parses a TLV (that is `payload.py`'s job,
called by whoever peeled).
"""

from __future__ import annotations

import hmac as _hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sphinxamp.errors import (
    BigSizeError,
    DecodeError,
    EncodeError,
    InvalidArgument,
    InvalidOnionBlinding,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionPayload,
    InvalidOnionVersion,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import NodeKey, shared_secret
from sphinxamp.wire._bigsize import bigsize_len, decode_bigsize, encode_bigsize

PAYMENT_PAYLOAD_AREA = 1300  # BOLT 4 › Packet Structure: onion_routing_packet is 1366 bytes
ONION_MESSAGE_PAYLOAD_AREA = 32768  # the larger size onion messages SHOULD use (32834 bytes)
HMAC_SIZE = 32
PACKET_OVERHEAD = 1 + 33 + HMAC_SIZE
# The largest packet any message carries: BOLT 4 › Onion Messages frames onion_message_packet
# with a u16 len, so version ‖ key ‖ hop_payloads ‖ hmac is at most 65,535 bytes and the
# payload area at most 65,469 (a payment's is 1300).
MAX_PAYLOAD_AREA = 0xFFFF - PACKET_OVERHEAD
VERSION = 0
_ZERO_HMAC = bytes(HMAC_SIZE)


@dataclass(frozen=True, slots=True)
class OnionPacket:
    """version ‖ public_key ‖ hop_payloads ‖ hmac (BOLT 4 › Packet Structure)."""

    version: int
    public_key: bytes
    hop_payloads: bytes
    hmac: bytes
    # The parsed form of `public_key`, kept so a peel does not parse the key a second time.
    _key: crypto.PubKey = field(default=None, compare=False, repr=False)

    @property
    def payload_area(self) -> int:
        return len(self.hop_payloads)

    def to_bytes(self) -> bytes:
        return b"".join((bytes((self.version,)), self.public_key, self.hop_payloads, self.hmac))

    def __len__(self) -> int:
        return PACKET_OVERHEAD + len(self.hop_payloads)

    @classmethod
    def parse(cls, data: bytes, payload_area: int | None = PAYMENT_PAYLOAD_AREA) -> OnionPacket:
        """Frame a packet; check its size, then version, then key, as BOLT 4 › Onion Decryption
        orders them. `payload_area=None` takes the size implied by the length (onion messages)."""
        public_key, hop_payloads, tag, key = _frame(data, payload_area)
        return cls(VERSION, public_key, bytes(hop_payloads), tag, key)


def _frame(
    data: bytes, payload_area: int | None
) -> tuple[bytes, memoryview, bytes, crypto.PubKey]:
    """`OnionPacket.parse` without the object: (public_key, hop_payloads, hmac, parsed key).
    hop_payloads is a view into `data`, not a copy: a peel only reads it."""
    data = bytes(data)
    if payload_area is None:
        if len(data) < PACKET_OVERHEAD:
            raise DecodeError(
                f"onion packet of {len(data)} bytes is shorter than its {PACKET_OVERHEAD}"
                " bytes of fixed fields", field="onion", offset=len(data),
                reason="packet_length",
            )
    elif len(data) != PACKET_OVERHEAD + payload_area:
        raise DecodeError(
            f"onion packet is {len(data)} bytes, expected {PACKET_OVERHEAD + payload_area}",
            field="onion", offset=min(len(data), PACKET_OVERHEAD + payload_area),
            reason="packet_length",
        )
    public_key = data[1:34]
    key = _checked_key(data[0], public_key, None)
    return public_key, memoryview(data)[34:-HMAC_SIZE], data[-HMAC_SIZE:], key


def _checked_key(version: int, public_key: bytes, parsed: crypto.PubKey) -> crypto.PubKey:
    """BOLT 4 › Onion Decryption steps 1–2, in that order: the version, then the key (parsed
    here unless `parsed` already holds it)."""
    if version != VERSION:
        raise InvalidOnionVersion(
            f"onion version {version} is not {VERSION}", field="version", offset=0,
            reason="unknown_version",
        )
    key = parsed if parsed is not None else crypto.parse_point(public_key)
    if key is None:
        raise InvalidOnionKey(
            "onion public_key is not a valid compressed secp256k1 point",
            field="public_key", offset=1, reason="invalid_point",
        )
    return key


@dataclass(frozen=True, slots=True)
class PeeledHop:
    """What one hop learns: its payload, its shared secret, and what to forward (or None)."""

    payload: bytes
    shared_secret: bytes
    next_packet: OnionPacket | None
    # Where `payload` starts in the decrypted stream (after its BigSize length), so payload
    # errors can be reported at stream offsets (BOLT 4 › invalid_onion_payload `offset`).
    payload_offset: int = 0
    # Inside a blinded route: ECDH(path_key, node key), computed once for the peel and reused
    # for the hop's encrypted_recipient_data (BOLT 4 › Route Blinding). None outside one.
    blinding_secret: bytes | None = field(default=None, repr=False)

    @property
    def is_final(self) -> bool:
        return self.next_packet is None


@dataclass(frozen=True, slots=True)
class BuiltOnion:
    packet: OnionPacket
    shared_secrets: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        return self.packet.to_bytes()


def frame_size(payload_length: int) -> int:
    """Bytes one hop takes in hop_payloads: BigSize length ‖ payload ‖ hmac."""
    return bigsize_len(payload_length) + payload_length + HMAC_SIZE


def _route_keys(session_key: bytes, pubkeys: Sequence[crypto.PubKey]) -> tuple[bytes, list[bytes]]:
    """First ephemeral public key and every hop's shared secret.

    The sender multiplies private scalars along the route (c_{i+1} = c_i · SHA256(E_i ‖ ss_i)),
    so each hop costs one ECDH and one generator multiplication (BOLT 4 › Packet Construction);
    the last hop's ephemeral key is never needed, so it is never computed.
    """
    secret = session_key
    first_epk = crypto.public_key(session_key, "session_key")
    epk = first_epk
    secrets: list[bytes] = []
    last = len(pubkeys) - 1
    for i, key in enumerate(pubkeys):
        if i:
            epk = crypto.public_key(secret)
        ss = crypto.ecdh(secret, key, "session_key")
        secrets.append(ss)
        if i < last:
            secret = crypto.scalar_mul(secret, crypto.sha256(epk + ss))
    return first_epk, secrets


def _filler(
    rho_keys: Sequence[bytes], sizes: Sequence[int], area: int
) -> tuple[bytes, list[Any]]:
    """BOLT 4 › Filler Generation: the tail each hop's shift-and-decrypt leaves behind, which
    the sender must predict so every downstream HMAC verifies. Also returns each hop's rho
    keystream context, so the wrapping pass repositions it instead of making another."""
    filler = b""
    runs = []
    for rho, size in zip(rho_keys[:-1], sizes[:-1], strict=True):
        filler += bytes(size)
        run = crypto.chacha20_encryptor(rho, area + size - len(filler))
        filler = run.update(filler)
        runs.append(run)
    return filler, runs


def _check_route(
    hops: Sequence[tuple[bytes, bytes]], payload_area: int, min_payload_length: int
) -> tuple[list[crypto.PubKey], list[int]]:
    """Each hop's parsed key and frame size, or the `EncodeError` for the first bad hop."""
    sizes, pubkeys = [], []
    for i, (pubkey, payload) in enumerate(hops):
        key = crypto.parse_point(pubkey)
        if key is None:
            raise EncodeError(f"hops[{i}].pubkey is not a valid point",
                              field=f"hops[{i}].pubkey", reason="invalid_point")
        if len(payload) < min_payload_length:
            raise EncodeError(f"hops[{i}].payload of {len(payload)} bytes is below the minimum "
                              f"{min_payload_length}", field=f"hops[{i}].payload",
                              reason="payload_too_short")
        pubkeys.append(key)
        sizes.append(frame_size(len(payload)))
    if sum(sizes) > payload_area:
        raise EncodeError(
            f"route needs {sum(sizes)} bytes of hop_payloads, the packet has {payload_area}",
            field="hop_payloads", reason="route_too_long",
        )
    return pubkeys, sizes


def build_onion(
    session_key: bytes,
    hops: Sequence[tuple[bytes, bytes]],
    associated_data: bytes,
    payload_area: int = PAYMENT_PAYLOAD_AREA,
    *,
    min_payload_length: int = 2,
) -> BuiltOnion:
    """Wrap `hops` = [(node_pubkey, payload)] (payload without its length prefix) in an onion.

    `min_payload_length` is 2 for payments (a TLV payload is at least one empty record) and 0
    for onion messages (BOLT 4 › Onion Messages). `payload_area` is 0 to `MAX_PAYLOAD_AREA`
    (65,469) bytes, else `InvalidArgument`.
    """
    if not hops:
        raise EncodeError("a route needs at least one hop", field="hops", reason="empty_route")
    if not isinstance(payload_area, int) or not 0 <= payload_area <= MAX_PAYLOAD_AREA:
        raise InvalidArgument(f"payload_area must be 0 to {MAX_PAYLOAD_AREA} bytes (an "
                              "onion_message's u16 len holds the whole packet), got "
                              f"{payload_area!r}", field="payload_area", reason="range")
    crypto.check_secret(session_key, "session_key")
    pubkeys, sizes = _check_route(hops, payload_area, min_payload_length)
    first_epk, secrets = _route_keys(session_key, pubkeys)
    rho_keys = [crypto.derive_key(crypto.KEY_RHO, ss) for ss in secrets]
    filler, runs = _filler(rho_keys, sizes, payload_area)
    runs.append(crypto.chacha20_encryptor(rho_keys[-1]))
    # BOLT 4 › Packet Construction step 3: start from the `pad` stream, not zeros, so unused
    # space is indistinguishable from payload.
    mix = crypto.chacha20_stream(crypto.derive_key(crypto.KEY_PAD, session_key), payload_area)
    next_hmac = _ZERO_HMAC
    for i in range(len(hops) - 1, -1, -1):
        payload = hops[i][1]
        frame = b"".join((encode_bigsize(len(payload)), payload, next_hmac))
        run = runs[i] if i == len(hops) - 1 else crypto.chacha20_reposition(
            runs[i], rho_keys[i], 0)
        mix = run.update(frame + mix[: payload_area - len(frame)])
        if filler and i == len(hops) - 1:
            mix = mix[: payload_area - len(filler)] + filler
        next_hmac = crypto.hmac_sha256(crypto.derive_key(crypto.KEY_MU, secrets[i]),
                                       mix + associated_data)
    return BuiltOnion(OnionPacket(VERSION, first_epk, mix, next_hmac), tuple(secrets))


def _blinded_point(node_key: bytes | NodeKey, key: crypto.PubKey,
                   path_key: bytes) -> tuple[Any, bytes]:
    """BOLT 4 › Onion Decryption step 4: inside a blinded route the onion was built to the
    blinded node id k·b, b = HMAC256("blinded_node_id", ECDH(path_key, k)). The ephemeral
    point is tweaked by b instead of the private key, so k itself is only ever used for ECDH
    (a key object never has to reveal it). Also returns ECDH(path_key, k), which the hop
    needs again to decrypt its encrypted_recipient_data."""
    point = crypto.parse_point(path_key)
    if point is None:
        raise InvalidOnionBlinding("path_key is not a valid point", field="path_key",
                                   reason="invalid_point")
    blinding_ss = shared_secret(node_key, point)
    factor = crypto.derive_key(crypto.KEY_BLINDED_NODE_ID, blinding_ss)
    return crypto.point_mul(key, factor), blinding_ss


def _unpack(packet: OnionPacket) -> tuple[bytes, bytes | memoryview, bytes, crypto.PubKey]:
    """A framed packet's fields, checked in `_frame`'s order; its parsed key is reused."""
    key = _checked_key(packet.version, packet.public_key, packet._key)
    return packet.public_key, packet.hop_payloads, packet.hmac, key


def _packet_hmac(mu: bytes, hop_payloads: bytes | memoryview, associated_data: bytes) -> bytes:
    """HMAC-SHA256(mu, hop_payloads ‖ associated_data). A payment onion's 1300 bytes are
    joined for the one-shot call; an onion message's up to 32 KiB are fed in two updates, so a
    peel never holds another copy of them (the memory bound of a 32 KiB peel)."""
    if len(hop_payloads) <= 4096:
        return crypto.hmac_sha256(mu, b"".join((hop_payloads, associated_data)))
    mac = _hmac.new(mu, hop_payloads, "sha256")
    mac.update(associated_data)
    return mac.digest()


def _payload_error(message: str, offset: int, reason: str) -> InvalidOnionPayload:
    return InvalidOnionPayload(message, field="hop_payloads", offset=offset, reason=reason)


def _hop_frame(plain: bytes, min_payload_length: int) -> tuple[int, int]:
    """Where this hop's payload starts and where its frame (payload ‖ next HMAC) ends in the
    decrypted routing area, checked against the area's size."""
    try:
        length, start = decode_bigsize(plain, 0, "payload length")
    except BigSizeError as exc:
        raise _payload_error(exc.message, 0, exc.reason or "bigsize") from None
    if length < min_payload_length:
        raise _payload_error(f"payload length {length} is below {min_payload_length}", 0,
                             "payload_too_short")
    end = start + length + HMAC_SIZE
    if end > len(plain):
        # BOLT 4 › Onion Decryption step 7: the frame must fit in the original hop_payloads;
        # reading into the zero-padded tail would accept bytes no sender encrypted.
        raise _payload_error(f"payload of {length} bytes and its HMAC end at {end}, past the "
                             f"{len(plain)}-byte routing area", start,
                             "payload_past_routing_area")
    return start, end


def peel_onion(
    packet: bytes | OnionPacket,
    node_key: bytes | NodeKey,
    associated_data: bytes,
    *,
    payload_area: int | None = PAYMENT_PAYLOAD_AREA,
    path_key: bytes | None = None,
    min_payload_length: int = 2,
) -> PeeledHop:
    """Remove one layer (BOLT 4 › Onion Decryption): version, key, HMAC — in that order — then
    the hop's frame. At the final hop the next ephemeral key is never computed.

    `node_key` is the node's 32-byte private key or any `NodeKey` (an object with
    `ecdh(point) -> shared_secret`). This moves bytes only: `process_hop` judges the payload."""
    if isinstance(packet, OnionPacket):
        public_key, hop_payloads, tag, key = _unpack(packet)
    else:  # straight from the wire: no intermediate OnionPacket is built
        public_key, hop_payloads, tag, key = _frame(packet, payload_area)
    point, blinding_ss = (key, None) if path_key is None else _blinded_point(node_key, key,
                                                                             path_key)
    ss = shared_secret(node_key, point)
    expected = _packet_hmac(crypto.derive_key(crypto.KEY_MU, ss), hop_payloads, associated_data)
    if not _hmac.compare_digest(expected, tag):
        raise InvalidOnionHmac("onion HMAC does not verify", field="hmac",
                               offset=PACKET_OVERHEAD - HMAC_SIZE + len(hop_payloads),
                               reason="hmac_mismatch")
    stream = crypto.chacha20_encryptor(crypto.derive_key(crypto.KEY_RHO, ss))
    plain = stream.update(hop_payloads)
    start, end = _hop_frame(plain, min_payload_length)
    payload = plain[start : end - HMAC_SIZE]
    next_hmac = plain[end - HMAC_SIZE : end]
    if next_hmac == _ZERO_HMAC:
        return PeeledHop(payload, ss, None, start, blinding_ss)
    # The tail of the next hop_payloads is the rho stream over the zeros appended past `size`.
    next_payloads = b"".join((memoryview(plain)[end:], stream.update(bytes(end))))
    next_key = crypto.point_mul(key, crypto.sha256(public_key + ss))
    nxt = OnionPacket(VERSION, crypto.serialize_point(next_key), next_payloads, next_hmac, next_key)
    return PeeledHop(payload, ss, nxt, start, blinding_ss)
