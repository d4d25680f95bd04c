"""Where the AMP receiver keeps its state: a small `Store` protocol and two implementations.

The state is lnd's invoice layer in three tables: invoices (AMP invoices by payment_addr,
keysend invoices by payment hash, with state, value, expiry and min final CLTV delta), AMP
sets (lnd's per-set_id AMPState) and HTLCs (with their amount, expiry, MPP total and accept
height, which the failure message carries back).

The receiver (_receiver.py) reads what it needs and writes every decision as one `Change`
inside one `transaction()`: the HTLC just received, the invoice or set it opened, the HTLCs
it settled or failed and the new states go to disk together or not at all. A decision is returned
only after its transaction committed, so whatever the caller acknowledged survives a crash,
and whatever it never saw acknowledged is either absent or complete.

`MemoryStore` serves tests and fuzzing. `SqliteStore` (receiver/_sqlite.py, which imports
this module's records) is the embedded default: stdlib sqlite3
in WAL mode. With `synchronous="FULL"` (the default) every commit is fsynced before it
returns, so an acknowledged shard or a released preimage survives power loss too. With
`synchronous="NORMAL"` a WAL commit is written to the OS but fsynced only at checkpoints:
still safe against the receiver process crashing or being killed (the OS holds the data),
not against the machine losing power, where the last commits may vanish after they were
acknowledged. One receiver process writes a database at a time (each decision reads and
writes under one BEGIN IMMEDIATE lock, so a second writer cannot interleave a decision, but
two live receivers would still each believe they own the held shards).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sphinxamp.errors import InvalidArgument, StoreConflict

HtlcId = int | str  # the HTLC's circuit key as the caller names it
MAX_INT_ID = (1 << 63) - 1  # what an SQLite INTEGER holds


class HtlcState(enum.Enum):
    HELD = "held"  # accepted into a partial set, waiting for the rest
    SETTLED = "settled"
    FAILED = "failed"


class SetState(enum.Enum):
    OPEN = "open"
    SETTLED = "settled"
    FAILED = "failed"


class InvoiceState(enum.Enum):
    """lnd's ContractState as it applies here (no hodl invoices, so no `accepted`). An AMP
    invoice stays open while its sets settle; a keysend invoice settles with its HTLC."""

    OPEN = "open"
    SETTLED = "settled"
    CANCELED = "canceled"


class InvoiceKind(enum.Enum):
    AMP = "amp"  # found by payment_addr (lnd InvoiceRefByAddr)
    KEYSEND = "keysend"  # found by payment hash (lnd InvoiceRefByHash)


InvoiceKey = tuple[InvoiceKind, bytes]


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice: `ref` is its payment_addr (AMP) or payment hash (keysend). `value_msat`
    0 takes any amount. `spontaneous` ones were created on the fly by an HTLC (lnd
    processAMP / processKeySend); `preimage` is a keysend invoice's."""

    kind: InvoiceKind
    ref: bytes
    value_msat: int
    created_at: float
    expiry_seconds: float
    min_final_cltv_delta: int
    state: InvoiceState = InvoiceState.OPEN
    spontaneous: bool = False
    preimage: bytes | None = None

    @property
    def key(self) -> InvoiceKey:
        return self.kind, self.ref

    @property
    def expires_at(self) -> float:
        return self.created_at + self.expiry_seconds

    def same_terms(self, other: Invoice) -> bool:
        """The same invoice as the caller asks for it (kind, ref, value, expiry, min final CLTV
        delta): a second add of it is a retry. The creation time is not compared, as a
        retry runs later; the stored invoice keeps its own."""
        def terms(i: Invoice) -> tuple[object, ...]:
            return (i.kind, i.ref, i.value_msat, i.expiry_seconds, i.min_final_cltv_delta,
                    i.spontaneous)

        return terms(self) == terms(other)

    @property
    def payment_addr(self) -> bytes | None:
        return self.ref if self.kind is InvoiceKind.AMP else None

    def expired(self, now: float) -> bool:
        """Open and past its expiry at `now`: lnd's expiry watcher cancels it by then
        (invoices/invoice_expiry_watcher.go, `makeTimestampExpiry`: creation date + expiry)."""
        return self.state is InvoiceState.OPEN and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class HtlcRecord:
    """One HTLC as received. `set_id` is set only when the HTLC joined an AMP set, `invoice`
    (the invoice's ref) only when it was added to an invoice (a refused HTLC belongs to
    neither); `share` and `child_index` come from its AMP record, `total_msat` from its MPP
    record; `accept_height` is the block height it arrived at (lnd's AcceptHeight)."""

    htlc_id: HtlcId
    payment_hash: bytes
    amount_msat: int
    arrived_at: float
    state: HtlcState
    set_id: bytes | None = None
    share: bytes | None = None
    child_index: int | None = None
    preimage: bytes | None = None
    failure_code: int | None = None
    reason: str | None = None
    total_msat: int | None = None
    cltv_expiry: int = 0
    accept_height: int = 0
    invoice: bytes | None = None


@dataclass(frozen=True, slots=True)
class SetRecord:
    """An AMP set: the shards sharing one set_id under one payment_addr (lnd's AMPState)."""

    set_id: bytes
    payment_addr: bytes
    total_msat: int
    state: SetState


@dataclass(frozen=True, slots=True)
class Change:
    """Everything one decision writes. `settle` moves held HTLCs to settled with their
    preimages, `fail` moves held HTLCs to failed with `failure_code`/`reason`; `new_htlc` is
    stored in whatever state it was decided into; `new_invoice` is added, and the invoice
    `invoice_key` moves to `invoice_state`. With `replaces_refusal`, `new_htlc` takes the
    place of a stored HTLC of the same id that was refused because no invoice was found (a
    resend decided again); any other stored HTLC of that id is still a conflict."""

    new_htlc: HtlcRecord | None = None
    new_set: SetRecord | None = None
    set_id: bytes | None = None
    set_state: SetState | None = None
    settle: tuple[tuple[HtlcId, bytes], ...] = ()
    fail: tuple[HtlcId, ...] = ()
    failure_code: int | None = None
    reason: str | None = None
    new_invoice: Invoice | None = None
    invoice_key: InvoiceKey | None = None
    invoice_state: InvoiceState | None = None
    replaces_refusal: bool = False


_INVOICE_NOT_FOUND = "invoice_not_found"  # ResolutionResult.INVOICE_NOT_FOUND, as stored


def refused_for_want_of_invoice(record: HtlcRecord) -> bool:
    """Refused because no invoice was found or made for it (invoice_not_found): an invoice
    added since, or accept_keysend / accept_amp turned on since, would take it, so a resend
    is decided again. lnd keeps nothing of such an HTLC either."""
    return (record.state is HtlcState.FAILED and record.invoice is None
            and record.reason == _INVOICE_NOT_FOUND)


class Store(Protocol):
    """What the receiver needs of its storage. Reads see every change applied before."""

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Reads and one `apply` as a unit: committed (durably) on exit, or rolled back."""
        ...

    def htlc(self, htlc_id: HtlcId) -> HtlcRecord | None: ...

    def amp_set(self, set_id: bytes) -> SetRecord | None: ...

    def set_htlcs(self, set_id: bytes, state: HtlcState) -> list[HtlcRecord]:
        """The set's HTLCs in `state`, in arrival order."""
        ...

    def expired(self, cutoff: float) -> list[HtlcRecord]:
        """Held HTLCs that arrived at or before `cutoff`, by arrival time, then order."""
        ...

    def earliest_held(self) -> float | None: ...

    def amount_paid(self, ref: bytes) -> int:
        """The amounts of every settled HTLC added to the invoice `ref` (for AMP: of every
        set under that payment_addr)."""
        ...

    def invoice(self, kind: InvoiceKind, ref: bytes) -> Invoice | None: ...

    def invoices(self) -> list[Invoice]:
        """Every invoice, oldest first."""
        ...

    def expired_invoices(self, now: float) -> list[Invoice]:
        """Open invoices whose expiry time is at or before `now`."""
        ...

    def invoice_htlcs(self, ref: bytes, state: HtlcState) -> list[HtlcRecord]:
        """The HTLCs added to the invoice `ref` in `state`, in arrival order."""
        ...

    def apply(self, change: Change) -> None:
        """Write a change whole, or raise `StoreConflict` having written nothing of it."""
        ...

    def close(self) -> None: ...


def check_htlc_id(htlc_id: object) -> HtlcId:
    """A text id, or an integer id that an SQLite INTEGER column holds (0 … 2^63-1)."""
    if isinstance(htlc_id, str):
        return htlc_id
    if isinstance(htlc_id, int) and not isinstance(htlc_id, bool) and 0 <= htlc_id <= MAX_INT_ID:
        return htlc_id
    raise InvalidArgument(f"htlc_id must be text or an integer in 0..2^63-1, got {htlc_id!r}",
                          field="htlc_id")


class MemoryStore:
    """The store in a few dicts: for tests, fuzzing and callers that persist elsewhere."""

    def __init__(self) -> None:
        self._htlcs: dict[HtlcId, HtlcRecord] = {}  # insertion order = arrival order
        self._sets: dict[bytes, SetRecord] = {}
        self._invoices: dict[InvoiceKey, Invoice] = {}
        self._members: dict[bytes, list[HtlcId]] = {}  # both indexes derive from _htlcs
        self._held: dict[HtlcId, None] = {}
        self._journal: list[tuple[dict[Any, Any], Any, Any]] | None = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._journal = []
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        finally:
            self._journal = None

    def _rollback(self) -> None:
        assert self._journal is not None
        for table, key, old in reversed(self._journal):
            if old is _MISSING:
                del table[key]
            else:
                table[key] = old
        self._members, self._held = {}, {}
        for record in self._htlcs.values():
            self._index(record)

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if self._journal is not None:
            self._journal.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def htlc(self, htlc_id: HtlcId) -> HtlcRecord | None:
        return self._htlcs.get(htlc_id)

    def amp_set(self, set_id: bytes) -> SetRecord | None:
        return self._sets.get(set_id)

    def set_htlcs(self, set_id: bytes, state: HtlcState) -> list[HtlcRecord]:
        records = (self._htlcs[i] for i in self._members.get(set_id, ()))
        return [r for r in records if r.state is state]

    def expired(self, cutoff: float) -> list[HtlcRecord]:
        due = [r for r in map(self._htlcs.__getitem__, self._held) if r.arrived_at <= cutoff]
        return sorted(due, key=lambda r: r.arrived_at)  # stable: ties stay in arrival order

    def earliest_held(self) -> float | None:
        return min((self._htlcs[i].arrived_at for i in self._held), default=None)

    def amount_paid(self, ref: bytes) -> int:
        return sum(r.amount_msat for r in self.invoice_htlcs(ref, HtlcState.SETTLED))

    def invoice(self, kind: InvoiceKind, ref: bytes) -> Invoice | None:
        return self._invoices.get((kind, ref))

    def invoices(self) -> list[Invoice]:
        return list(self._invoices.values())

    def expired_invoices(self, now: float) -> list[Invoice]:
        return [i for i in self._invoices.values() if i.expired(now)]

    def invoice_htlcs(self, ref: bytes, state: HtlcState) -> list[HtlcRecord]:
        return [r for r in self._htlcs.values() if r.invoice == ref and r.state is state]

    def apply(self, change: Change) -> None:
        check_change_shape(change)
        new = change.new_htlc
        old = None if new is None else self._htlcs.get(new.htlc_id)
        if new is not None and old is not None and not (
                change.replaces_refusal and refused_for_want_of_invoice(old)):
            raise StoreConflict(f"htlc {new.htlc_id!r} is already stored")
        if change.new_set is not None and change.new_set.set_id in self._sets:
            raise StoreConflict("set already stored")
        if change.new_invoice is not None and change.new_invoice.key in self._invoices:
            raise StoreConflict("invoice already stored")
        if change.invoice_key is not None and change.invoice_key not in self._invoices and (
                change.new_invoice is None or change.new_invoice.key != change.invoice_key):
            raise StoreConflict("state change of an unknown invoice")
        moved = [i for i, _ in change.settle] + list(change.fail)
        if any(i not in self._held for i in moved):
            raise StoreConflict("settle or fail of an HTLC that is not held")
        if change.new_invoice is not None:
            self._put(self._invoices, change.new_invoice.key, change.new_invoice)
        if change.new_set is not None:
            self._put(self._sets, change.new_set.set_id, change.new_set)
        if new is not None:
            self._put(self._htlcs, new.htlc_id, new)
            self._index(new)
        for htlc_id, preimage in change.settle:
            self._move(htlc_id, state=HtlcState.SETTLED, preimage=preimage)
        for htlc_id in change.fail:
            self._move(htlc_id, state=HtlcState.FAILED, failure_code=change.failure_code,
                       reason=change.reason)
        if change.set_state is not None and change.set_id is not None:
            self._put(self._sets, change.set_id, replace(self._sets[change.set_id],
                                                         state=change.set_state))
        if change.invoice_state is not None and change.invoice_key is not None:
            self._put(self._invoices, change.invoice_key,
                      replace(self._invoices[change.invoice_key], state=change.invoice_state))

    def _index(self, record: HtlcRecord) -> None:
        if record.set_id is not None:
            self._members.setdefault(record.set_id, []).append(record.htlc_id)
        if record.state is HtlcState.HELD:
            self._held[record.htlc_id] = None

    def _move(self, htlc_id: HtlcId, **fields: Any) -> None:
        self._put(self._htlcs, htlc_id, replace(self._htlcs[htlc_id], **fields))
        del self._held[htlc_id]

    def close(self) -> None:
        pass


_MISSING = object()


def check_change_shape(change: Change) -> None:
    if change.set_state is not None and change.set_id is None:
        raise StoreConflict("a set state without a set_id")
    if change.invoice_state is not None and change.invoice_key is None:
        raise StoreConflict("an invoice state without an invoice")
    if change.fail and (change.failure_code is None or change.reason is None):
        raise StoreConflict("failed HTLCs need a failure code and a reason")
    moved = [i for i, _ in change.settle] + list(change.fail)
    if change.new_htlc is not None:
        moved.append(change.new_htlc.htlc_id)
    if len(set(moved)) != len(moved):
        raise StoreConflict("a change moves an HTLC twice, or moves the one it adds")


__all__ = ["Change", "HtlcId", "HtlcRecord", "HtlcState", "Invoice", "InvoiceKey",
           "InvoiceKind", "InvoiceState", "MemoryStore", "SetRecord", "SetState",
           "Store", "StoreConflict", "check_change_shape", "check_htlc_id"]
