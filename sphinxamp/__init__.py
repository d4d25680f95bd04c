"""sphinxamp: build, peel and explain Lightning Network onion packets.

The curated surface; the modules behind it are one concept each (BOLT 1 codecs, BOLT 4 Sphinx,
hop payloads, AMP, keysend, failures, replay protection).
"""

from .bigsize import decode_bigsize, decode_tu, encode_bigsize, encode_tu
from .errors import (
    BadOnionError,
    DecodeError,
    EncodeError,
    InvalidOnionBlinding,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionPayload,
    InvalidOnionVersion,
    SphinxampError,
    TlvError,
)
from .payload import AmpRecord, HopPayload, PaymentData, Role, decode_payload
from .sphinx import BuiltOnion, OnionPacket, PeeledHop, build_onion, peel_onion
from .tlv import TlvRecord, TlvSchema, decode_stream, encode_stream

__version__ = "0.1.0"

__all__ = [
    "AmpRecord",
    "BadOnionError",
    "BuiltOnion",
    "DecodeError",
    "EncodeError",
    "HopPayload",
    "InvalidOnionBlinding",
    "InvalidOnionHmac",
    "InvalidOnionKey",
    "InvalidOnionPayload",
    "InvalidOnionVersion",
    "OnionPacket",
    "PaymentData",
    "PeeledHop",
    "Role",
    "SphinxampError",
    "TlvError",
    "TlvRecord",
    "TlvSchema",
    "build_onion",
    "decode_bigsize",
    "decode_payload",
    "decode_stream",
    "decode_tu",
    "encode_bigsize",
    "encode_stream",
    "encode_tu",
    "peel_onion",
]
