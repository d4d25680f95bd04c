"""Failures and attribution below the tasks (BOLT 4 › Returning Errors, Attribution Data).

The tasks are on the top level: `sphinxamp.create_failure` (the erring node),
`sphinxamp.wrap_failure` (each relaying node), `sphinxamp.decrypt_failure` (the origin) and
`sphinxamp.FailureMessage` (with `FailureMessage.from_error` for an error `process_hop`
raised). Here: the packet answering such an error in one call (`failure_from_error`), the
conversion of an `update_fail_malformed_htlc` (`failure_from_malformed`), and attribution
data on its own: `create_attribution`, `wrap_attribution` and `verify_attribution` serve the
fulfill path (BOLT 2 › Removing an HTLC: `update_fulfill_htlc` carries the same TLV, whose
HMACs then cover no packet)."""

from sphinxamp.failures._attribution import (
    AttributionData,
    HopAttribution,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.failures._packet import FailureReply, failure_from_error, failure_from_malformed

__all__ = [
    "AttributionData",
    "FailureReply",
    "HopAttribution",
    "create_attribution",
    "failure_from_error",
    "failure_from_malformed",
    "verify_attribution",
    "wrap_attribution",
]
