"""Route blinding below the tasks (BOLT 4 › Route Blinding): a blinded hop of a path, a hop's
unblinding and relay arithmetic, blinded paths read from bytes, onion message packets.
`sphinxamp.create_blinded_path`, `build_blinded_payment_onion` and the onion message tasks
sit on top."""

from sphinxamp.blinding._onion_message import (
    ONIONMSG_SCHEMA,
    OnionMessage,
    choose_payload_area,
    decode_blinded_path,
)
from sphinxamp.blinding._path import BlindedHop
from sphinxamp.blinding._unblind import (
    BlindedPayInfo,
    UnblindedData,
    aggregate_relay,
    forward_amount,
    forward_cltv,
    unblind,
)

__all__ = [
    "ONIONMSG_SCHEMA",
    "BlindedHop",
    "BlindedPayInfo",
    "OnionMessage",
    "UnblindedData",
    "aggregate_relay",
    "choose_payload_area",
    "decode_blinded_path",
    "forward_amount",
    "forward_cltv",
    "unblind",
]
