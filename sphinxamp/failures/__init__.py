"""Failures and attribution below the tasks (BOLT 4 › Returning Errors, Attribution Data).

The tasks are on the top level: `sphinxamp.create_failure` (the erring node),
`sphinxamp.wrap_failure` (each relaying node), `sphinxamp.decrypt_failure` (the origin) and
`sphinxamp.FailureMessage` (with `FailureMessage.from_error` for an error `process_hop`
raised). Here: the packet answering such an error in one call (`failure_from_error`), the
conversion of an `update_fail_malformed_htlc` (`failure_from_malformed`), and attribution
data on its own: `create_attribution`, `wrap_attribution` and `verify_attribution` serve the
fulfill path (BOLT 2 › Removing an HTLC: `update_fulfill_htlc` carries the same TLV, whose
HMACs then cover no packet)."""

from collections.abc import Mapping
from types import MappingProxyType

from sphinxamp._codes import FAILURE_CODES as _FAILURE_CODE_TABLE
from sphinxamp._codes import FailureCode
from sphinxamp._codes import failure_name as failure_code_name
from sphinxamp.failures._attribution import (
    HOLD_TIME_UNIT_MS,
    AttributionData,
    HopAttribution,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.failures._message import resolve_code
from sphinxamp.failures._packet import (
    PAD_TO,
    FailureReply,
    failure_from_error,
    failure_from_malformed,
)
from sphinxamp.failures._trampoline_failure import (
    TRAMPOLINE_FAILURE_CODES,
    RelayedFailure,
    TrampolineFailure,
    create_trampoline_failure,
    decrypt_trampoline_failure,
    read_trampoline_failure,
    relay_trampoline_failure,
    trampoline_failure_from_error,
    trampoline_failure_message,
    wrap_trampoline_failure,
)

# BOLT 4 › Failure Messages: every assigned code, its name and its fixed fields, read-only.
FAILURE_CODES: Mapping[int, FailureCode] = MappingProxyType(_FAILURE_CODE_TABLE)

__all__ = [
    "FAILURE_CODES",
    "HOLD_TIME_UNIT_MS",
    "PAD_TO",
    "TRAMPOLINE_FAILURE_CODES",
    "AttributionData",
    "FailureCode",
    "FailureReply",
    "HopAttribution",
    "RelayedFailure",
    "TrampolineFailure",
    "create_attribution",
    "create_trampoline_failure",
    "decrypt_trampoline_failure",
    "failure_code_name",
    "failure_from_error",
    "failure_from_malformed",
    "read_trampoline_failure",
    "relay_trampoline_failure",
    "resolve_code",
    "trampoline_failure_from_error",
    "trampoline_failure_message",
    "verify_attribution",
    "wrap_attribution",
    "wrap_trampoline_failure",
]
