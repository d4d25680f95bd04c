"""Where the AMP receiver keeps its state: a small `Store` protocol and two implementations.

The receiver (receiver.py) reads what it needs and writes every decision as one `Change`
inside one `transaction()`: the HTLC just received, the set it opened, the HTLCs it settled
or failed and the set's new state go to disk together or not at all. A decision is returned
only after its transaction committed, so whatever the caller acknowledged survives a crash,
and whatever it never saw acknowledged is either absent or complete.

`MemoryStore` serves tests and fuzzing. `SqliteStore` is the embedded default: stdlib sqlite3
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
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ._errors import InvalidArgument, StoreConflict

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


@dataclass(frozen=True, slots=True)
class HtlcRecord:
    """One HTLC as received. `set_id` is set only when the HTLC joined an AMP set (a refused
    HTLC belongs to none); `share` and `child_index` come from its AMP record."""

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
    stored in whatever state it was decided into."""

    new_htlc: HtlcRecord | None = None
    new_set: SetRecord | None = None
    set_id: bytes | None = None
    set_state: SetState | None = None
    settle: tuple[tuple[HtlcId, bytes], ...] = ()
    fail: tuple[HtlcId, ...] = ()
    failure_code: int | None = None
    reason: str | None = None



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

    def amount_paid(self, payment_addr: bytes) -> int:
        """The amounts of every settled HTLC of every set under `payment_addr`."""
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

    def amount_paid(self, payment_addr: bytes) -> int:
        return sum(r.amount_msat for s in self._sets.values() if s.payment_addr == payment_addr
                   for r in self.set_htlcs(s.set_id, HtlcState.SETTLED))

    def apply(self, change: Change) -> None:
        _check_change_shape(change)
        new = change.new_htlc
        if new is not None and new.htlc_id in self._htlcs:
            raise StoreConflict(f"htlc {new.htlc_id!r} is already stored")
        if change.new_set is not None and change.new_set.set_id in self._sets:
            raise StoreConflict("set already stored")
        moved = [i for i, _ in change.settle] + list(change.fail)
        if any(i not in self._held for i in moved):
            raise StoreConflict("settle or fail of an HTLC that is not held")
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


def _check_change_shape(change: Change) -> None:
    if change.set_state is not None and change.set_id is None:
        raise StoreConflict("a set state without a set_id")
    if change.fail and (change.failure_code is None or change.reason is None):
        raise StoreConflict("failed HTLCs need a failure code and a reason")
    moved = [i for i, _ in change.settle] + list(change.fail)
    if change.new_htlc is not None:
        moved.append(change.new_htlc.htlc_id)
    if len(set(moved)) != len(moved):
        raise StoreConflict("a change moves an HTLC twice, or moves the one it adds")


# --- SQLite ---------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS amp_set (
    set_id BLOB PRIMARY KEY,
    payment_addr BLOB NOT NULL,
    total_msat INTEGER NOT NULL,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS amp_set_by_addr ON amp_set (payment_addr);
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
    reason TEXT
);
CREATE INDEX IF NOT EXISTS htlc_by_set ON htlc (set_id, state) WHERE set_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS htlc_held ON htlc (arrived_at) WHERE state = 'held';
"""
# `htlc_id` has no declared type on purpose: SQLite then keeps integers and text as given, so
# the integer 7 and the text "7" stay two ids, as they are in a Python dict.

_COLUMNS = ("htlc_id, payment_hash, amount_msat, arrived_at, state, set_id, share, "
            "child_index, preimage, failure_code, reason")
_SELECT = f"SELECT {_COLUMNS} FROM htlc"
_SYNCHRONOUS = ("FULL", "NORMAL")


def _to_i64(value: int) -> int:
    """msat amounts are u64 on the wire; SQLite integers are i64: store the same 64 bits."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _to_u64(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def _record(row: Sequence[object]) -> HtlcRecord:
    (htlc_id, phash, amount, arrived, state, set_id, share, index, preimage, code,
     reason) = row
    return HtlcRecord(htlc_id, phash, _to_u64(amount), arrived,  # type: ignore[arg-type]
                      HtlcState(state), set_id, share, index, preimage,  # type: ignore[arg-type]
                      code, reason)  # type: ignore[arg-type]


class SqliteStore:
    """The store in one SQLite file (WAL). See the module docstring for `synchronous`."""

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        mode = synchronous.upper()
        if mode not in _SYNCHRONOUS:
            raise InvalidArgument(f"synchronous must be one of {_SYNCHRONOUS}, got {synchronous!r}",
                                  field="synchronous")
        self.synchronous = mode
        # Autocommit mode: transactions are opened and closed explicitly by `transaction`.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 5000")
        if self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise InvalidArgument(f"{path}: the database cannot use WAL journaling", field="db")
        self._db.execute(f"PRAGMA synchronous = {mode}")
        self._db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")  # one commit, not five

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock before the receiver reads, so what it decided from
        # cannot change under it before its change commits.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # a failed COMMIT may leave it open (SQLITE_BUSY)
                self._db.execute("ROLLBACK")
            raise

    def htlc(self, htlc_id: HtlcId) -> HtlcRecord | None:
        row = self._db.execute(f"{_SELECT} WHERE htlc_id = ?", (htlc_id,)).fetchone()
        return None if row is None else _record(row)

    def amp_set(self, set_id: bytes) -> SetRecord | None:
        row = self._db.execute("SELECT payment_addr, total_msat, state FROM amp_set "
                               "WHERE set_id = ?", (set_id,)).fetchone()
        if row is None:
            return None
        return SetRecord(set_id, row[0], _to_u64(row[1]), SetState(row[2]))

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

    def amount_paid(self, payment_addr: bytes) -> int:
        rows = self._db.execute("SELECT h.amount_msat FROM htlc h JOIN amp_set s USING (set_id)"
                                " WHERE s.payment_addr = ? AND h.state = 'settled'",
                                (payment_addr,))
        return sum(_to_u64(amount) for (amount,) in rows)

    def apply(self, change: Change) -> None:
        """Write `change`; call inside `transaction()`, which commits or rolls it back."""
        _check_change_shape(change)
        db = self._db
        try:
            if change.new_set is not None:
                s = change.new_set
                db.execute("INSERT INTO amp_set VALUES (?, ?, ?, ?)",
                           (s.set_id, s.payment_addr, _to_i64(s.total_msat), s.state.value))
            if change.new_htlc is not None:
                self._insert(change.new_htlc)
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(str(exc)) from None
        self._move(change)
        if change.set_state is not None:
            db.execute("UPDATE amp_set SET state = ? WHERE set_id = ?",
                       (change.set_state.value, change.set_id))

    def _insert(self, r: HtlcRecord) -> None:
        self._db.execute(
            f"INSERT INTO htlc ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.htlc_id, r.payment_hash, _to_i64(r.amount_msat), r.arrived_at, r.state.value,
             r.set_id, r.share, r.child_index, r.preimage, r.failure_code, r.reason))

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
