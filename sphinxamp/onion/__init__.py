"""The Sphinx layer (BOLT 4 › Packet Structure): packets, peeling one layer, the replay log and
batch peeling. `sphinxamp.process_hop` is the task; this is the layer under it, for people
building on the packet itself."""

from sphinxamp.onion._batch import PeelPool, peel_many
from sphinxamp.onion._replay import MemoryReplayLog, ReplayLog, SqliteReplayLog
from sphinxamp.onion._sphinx import (
    HMAC_SIZE,
    MAX_PAYLOAD_AREA,
    ONION_MESSAGE_PAYLOAD_AREA,
    PAYMENT_PAYLOAD_AREA,
    PeeledHop,
    peel_onion,
)

__all__ = [
    "HMAC_SIZE",
    "MAX_PAYLOAD_AREA",
    "ONION_MESSAGE_PAYLOAD_AREA",
    "PAYMENT_PAYLOAD_AREA",
    "MemoryReplayLog",
    "PeelPool",
    "PeeledHop",
    "ReplayLog",
    "SqliteReplayLog",
    "peel_many",
    "peel_onion",
]
