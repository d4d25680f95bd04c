"""The HTLC and onion messages of BOLT 2 and BOLT 4 with their TLVs: `update_add_htlc` (128),
`update_fulfill_htlc` (130), `update_fail_htlc` (131), `update_fail_malformed_htlc` (135) and
`onion_message` (513), and their JSON form. `sphinxamp.decode_message` and `encode_message`
are the tasks."""

from sphinxamp.messages._codec import (
    LAYOUTS,
    Layout,
    LengthPrefixed,
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
    WireMessage,
    WireOnionMessage,
)
from sphinxamp.messages._json import message_from_json, message_to_json

__all__ = [
    "LAYOUTS",
    "Layout",
    "LengthPrefixed",
    "UpdateAddHtlc",
    "UpdateFailHtlc",
    "UpdateFailMalformedHtlc",
    "UpdateFulfillHtlc",
    "WireMessage",
    "WireOnionMessage",
    "message_from_json",
    "message_to_json",
]
