"""`--as auto`: the kind a byte string most likely is, from its size and structure, and the
reason in words. Tests run in order; the first that recognises the bytes wins, and a bare
TLV stream is the fallback (it shows where the bytes stop making sense)."""

from __future__ import annotations

from collections.abc import Callable

from sphinxamp._codes import FAILURE_CODES
from sphinxamp._explain._failure import MIN_PACKET, looks_like_message
from sphinxamp._explain._kinds import Keys, length_prefix
from sphinxamp.blinding._onion_message import ONION_MESSAGE_TYPE
from sphinxamp.blinding._path import ENCRYPTED_DATA_SCHEMA, TAG_SIZE
from sphinxamp.blinding._unblind import decrypt_data
from sphinxamp.errors import SphinxampError
from sphinxamp.failures._attribution import ATTRIBUTION_DATA_SIZE
from sphinxamp.messages._codec import decode_message
from sphinxamp.onion._sphinx import (
    ONION_MESSAGE_PAYLOAD_AREA,
    PACKET_OVERHEAD,
    PAYMENT_PAYLOAD_AREA,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import shared_secret
from sphinxamp.wire._bigsize import decode_bigsize
from sphinxamp.wire._records import PROFILE_SCHEMAS
from sphinxamp.wire._tlv import TlvSchema, iter_records

Test = Callable[[bytes, Keys], str | None]


def _whole_message(data: bytes, keys: Keys) -> str | None:
    try:
        msg = decode_message(data)
    except SphinxampError:
        return None
    return f"decodes as a whole {msg.name} message (type {msg.type})"


def _message(data: bytes, keys: Keys) -> str | None:
    if (len(data) >= 37 + PACKET_OVERHEAD and int.from_bytes(data[:2], "big") == ONION_MESSAGE_TYPE
            and int.from_bytes(data[35:37], "big") == len(data) - 37):
        return "starts with message type 513 (onion_message) and its len field matches"
    return None


def _onion(data: bytes, keys: Keys) -> str | None:
    area = len(data) - PACKET_OVERHEAD
    if area in (PAYMENT_PAYLOAD_AREA, ONION_MESSAGE_PAYLOAD_AREA) or (
            area == keys.payload_area and area >= 0):
        return (f"{len(data)} bytes = version ‖ 33-byte key ‖ {area}-byte routing area ‖ "
                "32-byte hmac")
    return None


def _sealed_data(data: bytes, keys: Keys) -> str | None:
    """Bytes that authenticate under the key of ECDH(node key, path key): with both keys
    given, a Poly1305 tag that verifies is proof, not a guess."""
    if keys.node_key is None or keys.path_key is None or len(data) < TAG_SIZE:
        return None
    point = crypto.parse_point(bytes(keys.path_key))
    if point is None:
        return None
    try:
        rho = crypto.derive_key(crypto.KEY_RHO, shared_secret(keys.node_key, point))
        decrypt_data(rho, data)
    except SphinxampError:
        return None
    return ("decrypts with the node key and the path key (Poly1305 tag verified): "
            "encrypted_recipient_data")


def _attribution(data: bytes, keys: Keys) -> str | None:
    if len(data) == ATTRIBUTION_DATA_SIZE:
        return f"{ATTRIBUTION_DATA_SIZE} bytes: 20 hold times and 210 truncated HMACs"
    return None


def _failure(data: bytes, keys: Keys) -> str | None:
    if keys.shared_secrets and len(data) >= MIN_PACKET:
        return "shared secrets given and at least 292 bytes: a return packet"
    if looks_like_message(data):
        return (f"starts with failure code 0x{data[0]:02x}{data[1]:02x} and its fields fit "
                "exactly")
    if len(data) >= MIN_PACKET and not _is_tlv(data, None) and not length_prefix(data):
        return "at least 292 bytes and not a TLV stream: an update_fail_htlc reason"
    return None


def _is_tlv(data: bytes, schema: TlvSchema | None) -> bool:
    try:
        if schema is None:
            iter_records(data)
        else:
            schema.decode(data)
    except SphinxampError:
        return False
    return True


def _types(data: bytes) -> set[int]:
    return {t for t, *_ in iter_records(data)}


def _payload(data: bytes, keys: Keys) -> str | None:
    start = length_prefix(data)
    if start:
        data = data[start:]
    schema = PROFILE_SCHEMAS[keys.profile]
    if _is_tlv(data, schema) and ({2, 4} <= _types(data) or 10 in _types(data)):
        return "a TLV stream with amt_to_forward and outgoing_cltv_value (or " \
               "encrypted_recipient_data): a hop payload"
    return None


def _encrypted_data(data: bytes, keys: Keys) -> str | None:
    if not data or not _is_tlv(data, ENCRYPTED_DATA_SCHEMA):
        return None
    types = _types(data)
    known = types & set(ENCRYPTED_DATA_SCHEMA.specs)
    if known and len(known) >= len(types - known):
        return "a TLV stream of mostly encrypted_data_tlv records (route blinding data)"
    return None


def _readable_types(data: bytes) -> list[int]:
    """The types of the records that read before the stream breaks."""
    types: list[int] = []
    pos = 0
    try:
        while pos < len(data):
            rtype, pos = decode_bigsize(data, pos)
            length, pos = decode_bigsize(data, pos)
            if length > len(data) - pos:
                break
            types.append(rtype)
            pos += length
    except SphinxampError:
        pass
    return types


def _broken_payload(data: bytes, keys: Keys) -> str | None:
    types = _readable_types(data)
    if types[:2] == [2, 4] or 10 in types:
        return ("a hop payload's records (amt_to_forward, outgoing_cltv_value or "
                "encrypted_recipient_data) until the stream breaks")
    return None


def _known_code(data: bytes, keys: Keys) -> str | None:
    code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
    if code in FAILURE_CODES:
        return f"starts with failure code 0x{code:04x} ({FAILURE_CODES[code].name})"
    return None


def _tlv(data: bytes, keys: Keys) -> str | None:
    if _is_tlv(data, None):
        return "a valid TLV stream of no known record set"
    return None


GUESSES: tuple[tuple[str, Test], ...] = (
    ("message", _whole_message),
    ("message", _message),
    ("onion", _onion),
    ("encrypted-data", _sealed_data),
    ("attribution", _attribution),
    ("failure", _failure),
    ("payload", _payload),
    ("encrypted-data", _encrypted_data),
    ("tlv", _tlv),
    ("payload", _broken_payload),
    ("failure", _known_code),
)


def guess_kind(data: bytes, keys: Keys) -> tuple[str, str]:
    for kind, test in GUESSES:
        why = test(data, keys)
        if why is not None:
            return kind, why
    return "tlv", "nothing matched: read as a bare TLV stream to show where it breaks"
