"""Onion packets as fields, a payment's or an onion message's (BOLT 4 › Packet Structure,
› Onion Decryption, › Onion Messages; the whole `onion_message` around one is `_message`'s).
With the node's key the routing area is decrypted in place (a
ChaCha20 stream: plaintext byte i sits at ciphertext byte i) and the hop's frame explained:
its BigSize length, its payload's records, the HMAC for the next hop."""

from __future__ import annotations

import hmac
from dataclasses import replace

from sphinxamp._explain._bolt12 import STREAMS, bolt12_fields
from sphinxamp._explain._kinds import Keys, decrypt_into, explain_payload, payload_fields
from sphinxamp._explain._tlv import bigsize_field, tlv_fields
from sphinxamp._explain._trampoline import mark_profile, onion_record
from sphinxamp._explain._tree import Explanation, Field, error_from
from sphinxamp.blinding._onion_message import ONIONMSG_SCHEMA
from sphinxamp.errors import DecodeError, SphinxampError
from sphinxamp.onion._sphinx import HMAC_SIZE, PACKET_OVERHEAD, _blinded_point
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import shared_secret

_PACKET = "BOLT 4 › Packet Structure"
_DECRYPT = "BOLT 4 › Onion Decryption"


def _err(reason: str, message: str) -> DecodeError:
    return DecodeError(message, reason=reason)


def explain_onion(data: bytes, keys: Keys, ex: Explanation) -> None:
    ex.fields.append(onion_field(data, 0, keys, ex, keys.path_key, keys.assoc_data))


def onion_field(data: bytes, base: int, keys: Keys, ex: Explanation, path_key: bytes | None,
                assoc: bytes | None, *, message: bool = False) -> Field:
    """version ‖ public_key ‖ hop_payloads ‖ hmac, decrypted as far as the keys allow."""
    packet = Field("onion_packet", base, data, f"{len(data)} bytes")
    n, area = len(data), len(data) - PACKET_OVERHEAD
    parts = (("version", 0, 1), ("public_key", 1, 34), ("hop_payloads", 34, max(34, n - 32)),
             ("hmac", max(34, n - 32), n))
    for name, start, end in parts:
        # A packet of PACKET_OVERHEAD bytes has an empty routing area: its field is kept
        # (zero bytes at offset 34) so a whole packet always has its four parts.
        if start < n and (end > start or n >= PACKET_OVERHEAD):
            packet.children.append(Field(name, base + start, data[start:end]))
    want = keys.payload_area
    if n < PACKET_OVERHEAD or (want is not None and area != want):
        expect = f"{PACKET_OVERHEAD + want}" if want is not None else f"at least {PACKET_OVERHEAD}"
        ex.fail(error_from(_err("packet_length", f"{n} bytes, expected {expect}"), base,
                           _PACKET))
        return packet
    version, key_field, payloads, tag = packet.children
    version.meaning, version.value = f"version {data[0]}", data[0]
    payloads.meaning = f"routing area, {area} bytes, encrypted"
    tag.meaning = "HMAC-SHA256(mu, hop_payloads ‖ associated_data)"
    point = crypto.parse_point(data[1:34])
    key_field.meaning = ("ephemeral public key (secp256k1, compressed)" if point is not None
                         else "NOT a valid secp256k1 point")
    if data[0] != 0:
        ex.fail(error_from(_err("unknown_version", f"version {data[0]}"), base, _DECRYPT))
    elif point is None:
        ex.fail(error_from(_err("invalid_point", "public_key"), base + 1, _DECRYPT))
    elif keys.node_key is None or assoc is None:
        ex.notes.append("hop_payloads not decrypted: needs the node key"
                        + (" and the associated data" if assoc is None else ""))
    else:
        _decrypt(data, base, point, keys, ex, path_key, assoc, payloads, message)
    return packet


def _decrypt(data: bytes, base: int, point: object, keys: Keys, ex: Explanation,
             path_key: bytes | None, assoc: bytes, payloads: Field, message: bool) -> None:
    assert keys.node_key is not None
    try:
        target = point if path_key is None else _blinded_point(keys.node_key, point,
                                                               path_key)[0]
        ss = shared_secret(keys.node_key, target)
    except SphinxampError as exc:
        ex.notes.append(f"no shared secret: {exc.message}")
        return
    ex.notes.append(f"shared_secret {ss.hex()}")
    hop_payloads = data[34:-HMAC_SIZE]
    mu = crypto.derive_key(crypto.KEY_MU, ss)
    if not hmac.compare_digest(crypto.hmac_sha256(mu, hop_payloads + assoc), data[-HMAC_SIZE:]):
        ex.fail(error_from(_err("hmac_mismatch", "onion HMAC does not verify"),
                           base + len(data) - HMAC_SIZE, _DECRYPT))
        return
    plain = crypto.chacha20(crypto.derive_key(crypto.KEY_RHO, ss), hop_payloads)
    payloads.meaning = f"routing area, {len(plain)} bytes, decrypted with rho"
    payloads.children = _frame(plain, base + 34, keys, ex, path_key, message)


def _frame(plain: bytes, base: int, keys: Keys, ex: Explanation, path_key: bytes | None,
           message: bool) -> list[Field]:
    """The hop's frame: BigSize length ‖ payload ‖ next hmac ‖ what the next hops read."""
    try:
        length_field, start = bigsize_field("length", plain, 0, base)
    except SphinxampError as exc:
        ex.fail(error_from(exc, base, _DECRYPT, decrypted=True))
        return [Field("length", base, plain[:9], decrypted=True)]
    length_field.decrypted = True
    out = [length_field]
    length, minimum = length_field.value, 0 if message else 2
    end = start + length + HMAC_SIZE
    if length < minimum or end > len(plain):
        reason = "payload_too_short" if length < minimum else "payload_past_routing_area"
        ex.fail(error_from(_err(reason, f"payload length {length}"), base, _DECRYPT,
                           decrypted=True))
        return out
    payload = plain[start : start + length]
    next_hmac = plain[start + length : end]
    final = next_hmac == bytes(HMAC_SIZE)
    field = Field("payload", base + start, payload, f"hop payload, {length} bytes",
                  decrypted=True)
    if message:
        field.children = _message_payload(payload, base + start, keys, ex, path_key)
    else:
        field.children = payload_fields(payload, keys, ex, base=base + start, decrypted=True,
                                        final=final)
        trampoline_onion(field.children, keys, ex)
    out.append(field)
    out.append(Field("next_hmac", base + start + length, next_hmac,
                     "all zero: this is the final hop" if final else
                     "HMAC of the packet to forward", decrypted=True))
    rest = plain[end:]
    if rest:
        out.append(Field("rest", base + end, rest, "the next hops' frames and filler "
                         "(still encrypted for them)", decrypted=True))
    return out


def _message_payload(payload: bytes, base: int, keys: Keys, ex: Explanation,
                     path_key: bytes | None) -> list[Field]:
    fields = tlv_fields(payload, base, ONIONMSG_SCHEMA, ex, decrypted=True)
    for f in fields:
        if f.name == "encrypted_recipient_data" and f.children:
            decrypt_into(f.children[-1], keys.node_key, path_key, ex)
        rtype = f.children[0].value if f.children else None
        if rtype in STREAMS and len(f.children) == 3:
            # BOLT 4 › Onion Messages: types 64, 66 and 68 carry BOLT 12 TLV streams.
            value = f.children[2]
            value.children = bolt12_fields(rtype, value.raw, value.offset, ex, decrypted=True)
    return fields


def explain_payload_peeled(data: bytes, keys: Keys, ex: Explanation) -> None:
    """`--as payload`: the records, and a trampoline onion among them laid out (peeled with
    the node key and the associated data)."""
    explain_payload(data, keys, ex)
    trampoline_onion(ex.fields, keys, ex)


def trampoline_onion(records: list[Field], keys: Keys, ex: Explanation) -> None:
    """The trampoline onion a payload carries under a trampoline profile, laid out as a
    packet of any size under its record's value and, with the node key and the associated
    data, peeled as the trampoline node peels it (lightning/bolts#836 › Trampoline Payments:
    the same node key and payment hash; the outer current_path_key tweaks the ECDH inside a
    blinded trampoline path). Its hop payload is read under the same profile."""
    found = onion_record(records, keys.profile)
    if found is None:
        return
    value, outer_path_key = found
    inner = replace(keys, payload_area=None, path_key=outer_path_key)
    packet = onion_field(value.raw, value.offset, inner, ex, outer_path_key, keys.assoc_data)
    packet.name = "trampoline_onion_packet"
    packet.meaning = f"trampoline onion ({keys.profile}), {len(value.raw)} bytes"
    packet.decrypted = value.decrypted
    mark_profile(packet, keys.profile)
    value.children = [packet]
    if keys.node_key is not None and keys.assoc_data is not None:
        ex.notes.append(f"trampoline onion ({keys.profile}) at offset {value.offset}: peeled "
                        "with the same node key and associated data")


__all__ = ["explain_onion", "explain_payload_peeled", "onion_field", "trampoline_onion"]
