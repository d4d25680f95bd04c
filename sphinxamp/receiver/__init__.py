"""The receiver's parts: invoices, the store interface with its memory and SQLite stores, and
the records they keep. `sphinxamp.Receiver` is the task."""

from sphinxamp.receiver._machine import (
    DEFAULT_AMP_INVOICE_EXPIRY,
    DEFAULT_HOLD_SECONDS,
    DEFAULT_MIN_FINAL_CLTV_DELTA,
    MAX_INVOICE_EXPIRY,
    Decision,
    FailedHtlc,
    ResolutionResult,
)
from sphinxamp.receiver._sqlite import SqliteStore
from sphinxamp.receiver._store import (
    Change,
    HtlcRecord,
    HtlcState,
    Invoice,
    InvoiceKind,
    InvoiceState,
    MemoryStore,
    SetRecord,
    SetState,
    Store,
    check_htlc_id,
)

__all__ = [
    "DEFAULT_AMP_INVOICE_EXPIRY",
    "DEFAULT_HOLD_SECONDS",
    "DEFAULT_MIN_FINAL_CLTV_DELTA",
    "MAX_INVOICE_EXPIRY",
    "Change",
    "Decision",
    "FailedHtlc",
    "HtlcRecord",
    "HtlcState",
    "Invoice",
    "InvoiceKind",
    "InvoiceState",
    "MemoryStore",
    "ResolutionResult",
    "SetRecord",
    "SetState",
    "SqliteStore",
    "Store",
    "check_htlc_id",
]
