"""The byte-level kinds that need no onion framing: hop payloads, encrypted_data_tlv (with
its decryption), the AMP record, a bare TLV stream, a BigSize. Each is a function
(data, keys, explanation) registered in `KINDS` (`__init__.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from sphinxamp._explain._tlv import _codec_value, bigsize_field, tlv_fields
from sphinxamp._explain._trampoline import annotate_records
from sphinxamp._explain._tree import Explanation, Field, error_from
from sphinxamp._payload import decode_hop_payload
from sphinxamp.blinding._path import ENCRYPTED_DATA_SCHEMA, TAG_SIZE
from sphinxamp.blinding._unblind import decrypt_data
from sphinxamp.errors import DecodeError, SphinxampError
from sphinxamp.payments._trampoline import decode_trampoline_payload
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import NodeKey, shared_secret
from sphinxamp.wire._bigsize import decode_bigsize
from sphinxamp.wire._records import HOP_PAYLOAD_SCHEMA, PROFILE_SCHEMAS, TRAMPOLINE_PROFILES
from sphinxamp.wire._tlv import check_length

_PAYLOAD = "BOLT 4 › Packet Structure › `payload` format › Requirements"
_BLINDING = "BOLT 4 › Route Blinding › Requirements"
_TRAMPOLINE = "lightning/bolts#836 04-onion-routing.md › Packet Structure"
_AMP_TYPE = 14


@dataclass(frozen=True, slots=True)
class Keys:
    """What the caller knows to decrypt with: the node's key, the onion's associated data,
    the path key the HTLC or message carried, the route's shared secrets (origin side), the
    payload area (None: from the packet length) and the profile hop payloads are read under
    ("bolt", "lnd", "trampoline" or "trampoline-legacy")."""

    node_key: bytes | NodeKey | None = None
    assoc_data: bytes | None = None
    path_key: bytes | None = None
    shared_secrets: tuple[bytes, ...] = ()
    payload_area: int | None = None
    profile: str = "bolt"


def explain_tlv(data: bytes, keys: Keys, ex: Explanation) -> None:
    ex.fields += tlv_fields(data, 0, None, ex)


def explain_bigsize(data: bytes, keys: Keys, ex: Explanation) -> None:
    try:
        f, end = bigsize_field("bigsize", data, 0, 0)
    except DecodeError as exc:
        ex.fail(error_from(exc, 0, "BOLT 1 › Appendix A: BigSize Test Vectors"))
        return
    ex.fields.append(f)
    if end < len(data):
        ex.fail(error_from(DecodeError("bytes follow the BigSize", reason="trailing_bytes"),
                           end, "BOLT 1 › Appendix A: BigSize Test Vectors"))


def explain_amp(data: bytes, keys: Keys, ex: Explanation) -> None:
    """The value of hop payload record 14 (lnd's AMP record), laid out by its codec."""
    spec = HOP_PAYLOAD_SCHEMA.specs[_AMP_TYPE]
    f = _codec_value(spec.codec, data, 0, False)
    f.name, f.meaning = spec.name, "AMP record value: " + f.meaning
    ex.fields.append(f)
    try:
        check_length(spec, len(data), 0)
        spec.codec.decode(data, 0)
    except SphinxampError as exc:
        ex.fail(error_from(exc, exc.offset or 0))


def explain_payload(data: bytes, keys: Keys, ex: Explanation) -> None:
    start = length_prefix(data)
    if start:
        length, _ = bigsize_field("length", data, 0, 0)
        ex.fields.append(length)
        ex.notes.append("starts with its BigSize length, as the onion frame (and the BOLT 4 "
                        "vector files) carry it")
    ex.fields += payload_fields(data[start:], keys, ex, base=start)


def _decodes(data: bytes) -> bool:
    try:
        HOP_PAYLOAD_SCHEMA.decode(data)
    except SphinxampError:
        return False
    return True


def length_prefix(data: bytes) -> int:
    """Where the records start: after a BigSize length equal to the rest (a payload copied
    with its frame's length prefix), when the rest is a payload and the whole is not; else 0."""
    try:
        length, start = decode_bigsize(data, 0)
    except SphinxampError:
        return 0
    if length and length == len(data) - start and _decodes(data[start:]) and not _decodes(data):
        return start
    return 0


def payload_fields(data: bytes, keys: Keys, ex: Explanation, *, base: int = 0,
                   decrypted: bool = False, final: bool | None = None) -> list[Field]:
    """A hop payload's records under the keys' profile, each naming the profile that defines
    it, then the role rules (final when `final`, else assumed from short_channel_id's
    absence) and, with the keys, its encrypted_recipient_data."""
    schema = PROFILE_SCHEMAS[keys.profile]
    fields = tlv_fields(data, base, schema, ex, decrypted=decrypted)
    annotate_records(fields, keys.profile, ex)
    by_name = {f.name: f for f in fields}
    blob = by_name.get("encrypted_recipient_data")
    if blob is not None and blob.children:
        path_key = keys.path_key
        current = by_name.get("current_path_key")
        if path_key is None and current is not None and current.children:
            path_key = current.children[-1].raw
        decrypt_into(blob.children[-1], keys.node_key, path_key, ex)
    if ex.error is None and keys.profile in TRAMPOLINE_PROFILES:
        _trampoline_verdict(data, keys.profile, ex, base, decrypted)
    elif ex.error is None:
        if final is None:
            final = "short_channel_id" not in by_name
            ex.notes.append(f"payload judged as a {'final' if final else 'forwarding'} hop's "
                            "(short_channel_id " + ("absent)" if final else "present)"))
        try:
            decode_hop_payload(data, final=final, path_key_from_htlc=keys.path_key is not None,
                               base=base, profile=keys.profile)
        except SphinxampError as exc:
            ex.fail(error_from(exc, exc.offset if exc.offset is not None else base, _PAYLOAD,
                               decrypted=decrypted))
    return fields


def _trampoline_verdict(data: bytes, profile: str, ex: Explanation, base: int,
                        decrypted: bool) -> None:
    """A payload read under a trampoline profile: its structure (blinded paths included) as
    decode_trampoline_payload reads it; what a trampoline node requires of it is
    process_hop's, with the HTLC's amount and expiry."""
    try:
        decode_trampoline_payload(data, profile, base=base)
    except SphinxampError as exc:
        ex.fail(error_from(exc, exc.offset if exc.offset is not None else base, _TRAMPOLINE,
                           decrypted=decrypted))


def decrypt_into(value: Field, node_key: bytes | NodeKey | None, path_key: bytes | None,
                  ex: Explanation) -> None:
    """encrypted_recipient_data decrypted (ChaCha20-Poly1305 under rho from
    ECDH(node key, path key)) and explained under its field, at its own offsets."""
    if node_key is None or path_key is None:
        ex.notes.append("encrypted_recipient_data not decrypted: needs the node key and the "
                        "path key")
        return
    plain = decrypt_recipient_data(node_key, path_key, value.raw, ex)
    if plain is None:
        return
    value.children += tlv_fields(plain, value.offset, ENCRYPTED_DATA_SCHEMA, ex, decrypted=True)
    tag = value.raw[len(plain):]
    value.children.append(Field("tag", value.offset + len(plain), tag,
                                "Poly1305 tag (verified)", decrypted=value.decrypted))
    value.meaning = f"encrypted_data_tlv, {len(plain)} bytes decrypted + 16-byte tag"


def decrypt_recipient_data(node_key: bytes | NodeKey, path_key: bytes, encrypted: bytes,
                           ex: Explanation) -> bytes | None:
    point = crypto.parse_point(bytes(path_key))
    if point is None:
        ex.notes.append("path key is not a valid point: nothing decrypted")
        return None
    try:
        ss = shared_secret(node_key, point)
        return decrypt_data(crypto.derive_key(crypto.KEY_RHO, ss), encrypted)
    except SphinxampError as exc:
        ex.notes.append(f"encrypted_recipient_data not decrypted: {exc.message}")
        return None


def explain_encrypted_data(data: bytes, keys: Keys, ex: Explanation) -> None:
    """encrypted_recipient_data: decrypted with --node-key and --path-key, else read as the
    plaintext encrypted_data_tlv (as the route blinding vectors write it)."""
    if keys.node_key is None or keys.path_key is None:
        ex.notes.append("read as plaintext encrypted_data_tlv (give the node key and the "
                        "path key to decrypt)")
        ex.fields += tlv_fields(data, 0, ENCRYPTED_DATA_SCHEMA, ex)
        return
    blob = Field("encrypted_recipient_data", 0, data,
                 f"ciphertext ‖ {TAG_SIZE}-byte Poly1305 tag")
    ex.fields.append(blob)
    if len(data) < TAG_SIZE:
        ex.fail(error_from(DecodeError("shorter than its tag", reason="too_short"), 0,
                           _BLINDING))
        return
    decrypt_into(blob, keys.node_key, keys.path_key, ex)
    if not blob.children:
        ex.fail(error_from(DecodeError("does not authenticate", reason="decryption_failed"),
                           0, _BLINDING))
