"""Failures and attribution below the tasks (BOLT 4 › Returning Errors, Attribution Data):
the answer to a `process_hop` error, the malformed-HTLC conversion, attribution data on its
own (a fulfill carries it too). `sphinxamp.create_failure`, `wrap_failure` and
`decrypt_failure` are the tasks."""

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
