"""The receiver's store in one SQLite file (WAL), schema version 2 (`PRAGMA user_version`).

See _store.py for the contract and for what `synchronous` FULL and NORMAL promise.
Version 1 was the unversioned layout before invoices; such a file is refused with a clear
error rather than read with the wrong columns.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence

from sphinxamp._sqlite import RECEIVER_STORE_ID, open_database, transaction
from sphinxamp.receiver._store import (
    Change,
    HtlcId,
    HtlcRecord,
    HtlcState,
    Invoice,
    InvoiceKind,
    InvoiceState,
    SetRecord,
    SetState,
    StoreConflict,
    check_change_shape,
)

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invoice (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref BLOB NOT NULL,
    value_msat INTEGER NOT NULL,
    created_at REAL NOT NULL,
    expiry_seconds REAL NOT NULL,
    min_final_cltv_delta INTEGER NOT NULL,
    state TEXT NOT NULL,
    spontaneous INTEGER NOT NULL,
    preimage BLOB,
    UNIQUE (kind, ref)
);
CREATE INDEX IF NOT EXISTS invoice_open ON invoice (created_at) WHERE state = 'open';
CREATE TABLE IF NOT EXISTS amp_set (
    set_id BLOB PRIMARY KEY,
    payment_addr BLOB NOT NULL,
    total_msat INTEGER NOT NULL,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS htlc (
    seq INTEGER PRIMARY KEY,
    htlc_id UNIQUE NOT NULL,
    payment_hash BLOB NOT NULL,
    amount_msat INTEGER NOT NULL,
    arrived_at REAL NOT NULL,
    state TEXT NOT NULL,
    set_id BLOB,
    share BLOB,
    child_index INTEGER,
    preimage BLOB,
    failure_code INTEGER,
    reason TEXT,
    total_msat INTEGER,
    cltv_expiry INTEGER NOT NULL,
    accept_height INTEGER NOT NULL,
    invoice BLOB
);
CREATE INDEX IF NOT EXISTS htlc_by_set ON htlc (set_id, state) WHERE set_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS htlc_by_invoice ON htlc (invoice, state) WHERE invoice IS NOT NULL;
CREATE INDEX IF NOT EXISTS htlc_held ON htlc (arrived_at) WHERE state = 'held'
"""
# `htlc_id` has no declared type on purpose: SQLite then keeps integers and text as given, so
# the integer 7 and the text "7" stay two ids, as they are in a Python dict.

_COLUMNS = ("htlc_id, payment_hash, amount_msat, arrived_at, state, set_id, share, "
            "child_index, preimage, failure_code, reason, total_msat, cltv_expiry, "
            "accept_height, invoice")
_SELECT = f"SELECT {_COLUMNS} FROM htlc"
_INVOICE_COLUMNS = ("kind, ref, value_msat, created_at, expiry_seconds, min_final_cltv_delta, "
                    "state, spontaneous, preimage")
_SELECT_INVOICE = f"SELECT {_INVOICE_COLUMNS} FROM invoice"


def _to_i64(value: int | None) -> int | None:
    """msat amounts are u64 on the wire; SQLite integers are i64: store the same 64 bits."""
    if value is None:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def _to_u64(value: int | None) -> int | None:
    if value is None:
        return None
    return value + (1 << 64) if value < 0 else value


def _record(row: Sequence[object]) -> HtlcRecord:
    (htlc_id, phash, amount, arrived, state, set_id, share, index, preimage, code,
     reason, total, cltv, height, invoice) = row
    return HtlcRecord(htlc_id, phash, _to_u64(amount), arrived,  # type: ignore[arg-type]
                      HtlcState(state), set_id, share, index, preimage,  # type: ignore[arg-type]
                      code, reason, _to_u64(total), cltv, height,  # type: ignore[arg-type]
                      invoice)  # type: ignore[arg-type]


def _invoice(row: Sequence[object]) -> Invoice:
    kind, ref, value, created, expiry, delta, state, spontaneous, preimage = row
    return Invoice(InvoiceKind(kind), ref, _to_u64(value), created,  # type: ignore[arg-type]
                   expiry, delta, InvoiceState(state), bool(spontaneous),  # type: ignore[arg-type]
                   preimage)  # type: ignore[arg-type]


class SqliteStore:
    """The store in one SQLite file (WAL). See store.py for `synchronous`.

    The file is created with mode 0600 (`create=False` refuses a missing one instead); a
    file others may read or write is refused until `chmod 600`, as is a replay log or a file
    of another schema version (`InvalidArgument`, field "db"). A lock held by another
    process longer than `busy_timeout` (0 to 3600 s) raises `StoreBusy`: nothing was
    written, the call may be retried."""

    def __init__(self, path: str, *, synchronous: str = "FULL", busy_timeout: float = 5.0,
                 create: bool = True) -> None:
        self._path = str(path)
        self._db = open_database(self._path, SCHEMA_VERSION, _SCHEMA,
                                 application_id=RECEIVER_STORE_ID, synchronous=synchronous,
                                 busy_timeout=busy_timeout, create=create)
        self.synchronous = synchronous.upper()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with transaction(self._db, self._path):
            yield

    def htlc(self, htlc_id: HtlcId) -> HtlcRecord | None:
        row = self._db.execute(f"{_SELECT} WHERE htlc_id = ?", (htlc_id,)).fetchone()
        return None if row is None else _record(row)

    def amp_set(self, set_id: bytes) -> SetRecord | None:
        row = self._db.execute("SELECT payment_addr, total_msat, state FROM amp_set "
                               "WHERE set_id = ?", (set_id,)).fetchone()
        if row is None:
            return None
        total = _to_u64(row[1])
        assert total is not None
        return SetRecord(set_id, row[0], total, SetState(row[2]))

    def set_htlcs(self, set_id: bytes, state: HtlcState) -> list[HtlcRecord]:
        rows = self._db.execute(f"{_SELECT} WHERE set_id = ? AND state = ? ORDER BY seq",
                                (set_id, state.value))
        return [_record(row) for row in rows]

    def expired(self, cutoff: float) -> list[HtlcRecord]:
        rows = self._db.execute(f"{_SELECT} WHERE state = 'held' AND arrived_at <= ? "
                                "ORDER BY arrived_at, seq", (cutoff,))
        return [_record(row) for row in rows]

    def earliest_held(self) -> float | None:
        value = self._db.execute("SELECT min(arrived_at) FROM htlc WHERE state = 'held'")
        result: float | None = value.fetchone()[0]
        return result

    def amount_paid(self, ref: bytes) -> int:
        rows = self._db.execute("SELECT amount_msat FROM htlc WHERE invoice = ? AND "
                                "state = 'settled'", (ref,))
        return sum(_to_u64(amount) or 0 for (amount,) in rows)

    def invoice(self, kind: InvoiceKind, ref: bytes) -> Invoice | None:
        row = self._db.execute(f"{_SELECT_INVOICE} WHERE kind = ? AND ref = ?",
                               (kind.value, ref)).fetchone()
        return None if row is None else _invoice(row)

    def invoices(self) -> list[Invoice]:
        return [_invoice(row) for row in self._db.execute(f"{_SELECT_INVOICE} ORDER BY seq")]

    def expired_invoices(self, now: float) -> list[Invoice]:
        rows = self._db.execute(f"{_SELECT_INVOICE} WHERE state = 'open' AND "
                                "created_at + expiry_seconds <= ? ORDER BY seq", (now,))
        return [_invoice(row) for row in rows]

    def invoice_htlcs(self, ref: bytes, state: HtlcState) -> list[HtlcRecord]:
        rows = self._db.execute(f"{_SELECT} WHERE invoice = ? AND state = ? ORDER BY seq",
                                (ref, state.value))
        return [_record(row) for row in rows]

    def apply(self, change: Change) -> None:
        """Write `change`; call inside `transaction()`, which commits or rolls it back."""
        check_change_shape(change)
        try:
            if change.new_invoice is not None:
                self._insert_invoice(change.new_invoice)
            if change.new_set is not None:
                s = change.new_set
                self._db.execute("INSERT INTO amp_set VALUES (?, ?, ?, ?)",
                                 (s.set_id, s.payment_addr, _to_i64(s.total_msat),
                                  s.state.value))
            if change.new_htlc is not None:
                if change.replaces_refusal:
                    self._db.execute("DELETE FROM htlc WHERE htlc_id = ? AND state = 'failed' "
                                     "AND invoice IS NULL AND reason = 'invoice_not_found'",
                                     (change.new_htlc.htlc_id,))
                self._insert(change.new_htlc)
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(str(exc)) from None
        self._move(change)
        if change.set_state is not None:
            self._db.execute("UPDATE amp_set SET state = ? WHERE set_id = ?",
                             (change.set_state.value, change.set_id))
        if change.invoice_state is not None and change.invoice_key is not None:
            kind, ref = change.invoice_key
            if self._db.execute("UPDATE invoice SET state = ? WHERE kind = ? AND ref = ?",
                                (change.invoice_state.value, kind.value, ref)).rowcount != 1:
                raise StoreConflict("state change of an unknown invoice")

    def _insert_invoice(self, i: Invoice) -> None:
        self._db.execute(
            f"INSERT INTO invoice ({_INVOICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (i.kind.value, i.ref, _to_i64(i.value_msat), i.created_at, i.expiry_seconds,
             i.min_final_cltv_delta, i.state.value, int(i.spontaneous), i.preimage))

    def _insert(self, r: HtlcRecord) -> None:
        self._db.execute(
            f"INSERT INTO htlc ({_COLUMNS}) VALUES ({', '.join('?' * 15)})",
            (r.htlc_id, r.payment_hash, _to_i64(r.amount_msat), r.arrived_at, r.state.value,
             r.set_id, r.share, r.child_index, r.preimage, r.failure_code, r.reason,
             _to_i64(r.total_msat), r.cltv_expiry, r.accept_height, r.invoice))

    def _move(self, change: Change) -> None:
        moved = 0
        if change.settle:
            moved += self._db.executemany(
                "UPDATE htlc SET state = 'settled', preimage = ? "
                "WHERE htlc_id = ? AND state = 'held'",
                [(preimage, htlc_id) for htlc_id, preimage in change.settle]).rowcount
        if change.fail:
            moved += self._db.executemany(
                "UPDATE htlc SET state = 'failed', failure_code = ?, reason = ? "
                "WHERE htlc_id = ? AND state = 'held'",
                [(change.failure_code, change.reason, i) for i in change.fail]).rowcount
        if moved != len(change.settle) + len(change.fail):
            raise StoreConflict("settle or fail of an HTLC that is not held")

    def close(self) -> None:
        self._db.close()
