"""sphinxamp: build, peel and explain Lightning Network onion packets.

The curated surface; the modules behind it are one concept each (BOLT 1 codecs, BOLT 4 Sphinx,
hop payloads, routes, AMP, keysend, the receiver and its store, replay protection, batches).
"""

from ._amp import (
    AmpPayment,
    BuiltShard,
    ShardRoute,
    ShardTracker,
    Sharer,
    build_amp_payment,
    derive_child,
    reconstruct_children,
    reconstruct_root,
    split_root,
)
from ._batch import PeelPool, peel_many
from ._bigsize import decode_bigsize, decode_tu, encode_bigsize, encode_tu
from ._crypto import public_key
from ._errors import (
    BadOnionError,
    DecodeError,
    EncodeError,
    InvalidArgument,
    InvalidOnionBlinding,
    InvalidOnionHmac,
    InvalidOnionKey,
    InvalidOnionPayload,
    InvalidOnionVersion,
    InvalidSecret,
    PaymentError,
    ReplayedOnion,
    SphinxampError,
    StoreConflict,
    TlvError,
)
from ._hop import ProcessedHop, process_hop
from ._keysend import build_keysend_payment, verify_keysend
from ._nodekey import NodeKey, PrivateNodeKey
from ._payload import AmpRecord, HopPayload, PaymentData, Role, decode_payload
from ._receiver import Accepted, Fail, IncomingHtlc, Receiver, ResolutionResult, Settle
from ._receiver_store import MemoryStore, SqliteStore
from ._replay import MemoryReplayLog, SqliteReplayLog
from ._route import RouteHop, build_route_onion
from ._sphinx import BuiltOnion, OnionPacket, PeeledHop, build_onion, peel_onion
from ._tlv import ShortChannelId, TlvRecord, TlvSchema, decode_stream, encode_stream

__version__ = "0.1.0"

__all__ = [
    "Accepted",
    "AmpPayment",
    "AmpRecord",
    "BadOnionError",
    "BuiltOnion",
    "BuiltShard",
    "DecodeError",
    "EncodeError",
    "Fail",
    "HopPayload",
    "IncomingHtlc",
    "InvalidArgument",
    "InvalidOnionBlinding",
    "InvalidOnionHmac",
    "InvalidOnionKey",
    "InvalidOnionPayload",
    "InvalidOnionVersion",
    "InvalidSecret",
    "MemoryReplayLog",
    "MemoryStore",
    "NodeKey",
    "OnionPacket",
    "PaymentData",
    "PaymentError",
    "PeelPool",
    "PeeledHop",
    "PrivateNodeKey",
    "ProcessedHop",
    "Receiver",
    "ReplayedOnion",
    "ResolutionResult",
    "Role",
    "RouteHop",
    "Settle",
    "ShardRoute",
    "ShardTracker",
    "Sharer",
    "ShortChannelId",
    "SphinxampError",
    "SqliteReplayLog",
    "SqliteStore",
    "StoreConflict",
    "TlvError",
    "TlvRecord",
    "TlvSchema",
    "build_amp_payment",
    "build_keysend_payment",
    "build_onion",
    "build_route_onion",
    "decode_bigsize",
    "decode_payload",
    "decode_stream",
    "decode_tu",
    "derive_child",
    "encode_bigsize",
    "encode_stream",
    "encode_tu",
    "peel_many",
    "peel_onion",
    "process_hop",
    "public_key",
    "reconstruct_children",
    "reconstruct_root",
    "split_root",
    "verify_keysend",
]
