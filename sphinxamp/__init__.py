"""sphinxamp: build, peel, check and explain Lightning Network onion packets.

The tasks, one function each, and the types they take and return. The layers under them are
public submodules: `sphinxamp.wire` (BOLT 1 codecs), `sphinxamp.primitives` (BOLT 4 crypto),
`sphinxamp.onion` (the Sphinx layer, replay log, batches), `sphinxamp.blinding`,
`sphinxamp.failures`, `sphinxamp.payments`, `sphinxamp.receiver`, `sphinxamp.messages`,
`sphinxamp.debug` (the parts of what explain and trace return);
`sphinxamp.errors` holds every exception. docs/architecture.md draws the layers.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from sphinxamp._deprecated import MOVED
from sphinxamp._explain import Explanation, explain
from sphinxamp._explain._log import explain_log
from sphinxamp._explain.trace import RouteSpec, Trace, trace_route
from sphinxamp._hop import ProcessedHop, judge_payload, process_hop
from sphinxamp._htlc_answer import HtlcAnswer
from sphinxamp._payload import AmpRecord, HopPayload, PaymentData, Role, decode_payload
from sphinxamp._version import __version__ as __version__
from sphinxamp.blinding._onion_message import (
    Dropped,
    OnionMessagePayload,
    ProcessedMessage,
    build_onion_message,
    process_onion_message,
)
from sphinxamp.blinding._path import (
    BlindedPath,
    EncryptedData,
    PaymentConstraints,
    PaymentRelay,
    create_blinded_path,
)
from sphinxamp.blinding._unblind import build_blinded_payment_onion
from sphinxamp.failures._message import FailureMessage
from sphinxamp.failures._packet import (
    DecryptedFailure,
    create_failure,
    decrypt_failure,
    wrap_failure,
)
from sphinxamp.messages._codec import decode_message, encode_message
from sphinxamp.onion._sphinx import BuiltOnion, OnionPacket, build_onion
from sphinxamp.payments._amp import AmpPayment, ShardRoute, build_amp_payment
from sphinxamp.payments._keysend import KeysendPayment, build_keysend_payment
from sphinxamp.payments._route import RouteHop, RouteOnion, build_route_onion
from sphinxamp.primitives._crypto import public_key
from sphinxamp.receiver._machine import Accepted, Fail, IncomingHtlc, Receiver, Settle
from sphinxamp.wire._tlv import ShortChannelId

__all__ = [
    "Accepted",
    "AmpPayment",
    "AmpRecord",
    "BlindedPath",
    "BuiltOnion",
    "DecryptedFailure",
    "Dropped",
    "EncryptedData",
    "Explanation",
    "Fail",
    "FailureMessage",
    "HopPayload",
    "HtlcAnswer",
    "IncomingHtlc",
    "KeysendPayment",
    "OnionMessagePayload",
    "OnionPacket",
    "PaymentConstraints",
    "PaymentData",
    "PaymentRelay",
    "ProcessedHop",
    "ProcessedMessage",
    "Receiver",
    "Role",
    "RouteHop",
    "RouteOnion",
    "RouteSpec",
    "Settle",
    "ShardRoute",
    "ShortChannelId",
    "Trace",
    "build_amp_payment",
    "build_blinded_payment_onion",
    "build_keysend_payment",
    "build_onion",
    "build_onion_message",
    "build_route_onion",
    "create_blinded_path",
    "create_failure",
    "decode_message",
    "decode_payload",
    "decrypt_failure",
    "encode_message",
    "explain",
    "explain_log",
    "judge_payload",
    "process_hop",
    "process_onion_message",
    "public_key",
    "trace_route",
    "wrap_failure",
]


def __getattr__(name: str) -> Any:
    """The names this package exported before its surface was layered still resolve, for one
    release, with a DeprecationWarning naming their new home."""
    target = MOVED.get(name)
    if target is None:
        raise AttributeError(f"module 'sphinxamp' has no attribute {name!r}")
    location, replacement = target
    module, _, attribute = location.partition(":")
    warnings.warn(f"sphinxamp.{name} is deprecated: use {replacement}", DeprecationWarning,
                  stacklevel=2)
    return getattr(importlib.import_module(module), attribute)
