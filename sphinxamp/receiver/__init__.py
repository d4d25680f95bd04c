"""The receiver's parts: invoices, the store interface with its memory and SQLite stores, and
the records they keep. `sphinxamp.Receiver` is the task."""

from sphinxamp.receiver._machine import FailedHtlc, ResolutionResult
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
)

__all__ = [
    "Change",
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
]
