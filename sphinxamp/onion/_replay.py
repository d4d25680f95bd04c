"""Replay protection for forwarded onions (BOLT 4 › Onion Decryption, "if this hmac was seen
before"): a log of the onions this node has accepted, kept until their HTLC expires.

An onion is recognised by its shared secret: the same packet replayed to the same node yields
the same secret, and no other packet does. As lightning-onion does, the log keys entries by the
first 20 bytes of SHA256(shared_secret), so the log never holds the secret itself, and stores
the HTLC's CLTV expiry beside it; once the chain height passes that expiry the HTLC can no
longer be claimed and the entry is dropped (`gc(height)` removes entries with cltv < height,
as lnd's decayed log does).

Decisions are made a batch at a time, the way a node commits the HTLCs of one
commitment_signed together: every entry of a batch is checked against the log and against the
entries before it in the same batch, the new ones are recorded, and the indices of the replays
are returned — all in one transaction. The SQLite log takes the write lock before it reads
(BEGIN IMMEDIATE), so two processes sharing a database can neither both accept the same onion
nor lose each other's entries, and a batch is durable (WAL, synchronous=FULL) before its
answer is returned.

A batch may carry an id, as lnd's decayed log does (lightning-onion `replaylog.go`,
`batch.go`): committing an id again returns the answer of its first commit. A node that
crashed after the log committed a batch but before it acted on the HTLCs reprocesses the same
batch on restart and gets the same answers, instead of seeing its own onions as replays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from sphinxamp._sqlite import REPLAY_LOG_ID, open_database, transaction
from sphinxamp.errors import InvalidArgument, ReplayedOnion

HASH_PREFIX_SIZE = 20
_U32_MAX = 0xFFFFFFFF



def hash_prefix(shared_secret: bytes) -> bytes:
    """The log key: the first 20 bytes of SHA256(shared_secret) (lightning-onion's HashPrefix)."""
    return hashlib.sha256(shared_secret).digest()[:HASH_PREFIX_SIZE]


def _entries(batch: Iterable[tuple[bytes, int]]) -> list[tuple[bytes, int]]:
    out = []
    for i, (secret, cltv) in enumerate(batch):
        if len(secret) != 32:
            raise InvalidArgument(f"entry {i}: a shared secret is 32 bytes, got {len(secret)}",
                                 field=f"batch[{i}].shared_secret", reason="range")
        if not 0 <= cltv <= _U32_MAX:
            raise InvalidArgument(f"entry {i}: cltv {cltv} is not a u32",
                                 field=f"batch[{i}].cltv", reason="range")
        out.append((hash_prefix(bytes(secret)), cltv))
    return out


def _batch_id(batch_id: bytes | None) -> bytes | None:
    if batch_id is not None and not isinstance(batch_id, bytes | bytearray):
        raise InvalidArgument("a batch id is bytes", field="batch_id", reason="type")
    return None if batch_id is None else bytes(batch_id)


def _last_cltv(entries: Sequence[tuple[bytes, int]]) -> int:
    return max((cltv for _, cltv in entries), default=0)


def _pack(replays: frozenset[int]) -> str:
    return ",".join(str(i) for i in sorted(replays))


def _unpack(text: str) -> frozenset[int]:
    return frozenset(int(i) for i in text.split(",") if i)


class ReplayLog(Protocol):
    """What a node needs from a replay log; both implementations below provide it."""

    def check_and_insert(self, batch: Sequence[tuple[bytes, int]], *,
                         batch_id: bytes | None = None) -> frozenset[int]:
        """Record every (shared_secret, cltv) of `batch` not seen before; return the indices of
        those that were (in the log already, or earlier in this batch). Atomic. With a
        `batch_id` the log has committed before, nothing is recorded and that commit's answer
        is returned."""
        ...

    def contains(self, shared_secret: bytes) -> bool: ...

    def gc(self, height: int) -> int:
        """Drop the entries whose CLTV expiry is below `height`; return how many."""
        ...

    def __len__(self) -> int: ...

    def close(self) -> None: ...


class MemoryReplayLog:
    """The log in a dict: for tests, fuzzing, and nodes that accept losing it on restart."""

    def __init__(self) -> None:
        self._entries: dict[bytes, int] = {}
        self._batches: dict[bytes, tuple[frozenset[int], int]] = {}

    def check_and_insert(self, batch: Sequence[tuple[bytes, int]], *,
                         batch_id: bytes | None = None) -> frozenset[int]:
        entries = _entries(batch)
        bid = _batch_id(batch_id)
        if bid is not None and bid in self._batches:
            return self._batches[bid][0]
        replays = set()
        for i, (key, cltv) in enumerate(entries):
            if key in self._entries:
                replays.add(i)
            else:
                self._entries[key] = cltv
        answer = frozenset(replays)
        if bid is not None:
            self._batches[bid] = (answer, _last_cltv(entries))
        return answer

    def contains(self, shared_secret: bytes) -> bool:
        return hash_prefix(shared_secret) in self._entries

    def gc(self, height: int) -> int:
        expired = [k for k, cltv in self._entries.items() if cltv < height]
        for k in expired:
            del self._entries[k]
        for bid in [b for b, (_, cltv) in self._batches.items() if cltv < height]:
            del self._batches[bid]
        return len(expired)

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        return None

    def __enter__(self) -> MemoryReplayLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS replay_log (
    hash_prefix BLOB PRIMARY KEY NOT NULL,
    cltv INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_log_cltv ON replay_log (cltv);
CREATE TABLE IF NOT EXISTS replay_batches (
    batch_id BLOB PRIMARY KEY NOT NULL,
    replays TEXT NOT NULL,
    cltv INTEGER NOT NULL
) WITHOUT ROWID;
"""


SCHEMA_VERSION = 2  # 1: entries only; 2: batch ids


class SqliteReplayLog:
    """The log in an SQLite database (embedded, WAL, synchronous=FULL): survives restarts and
    crashes, and may be shared by several processes of one node. A path that cannot be opened,
    a file that is not a database, another store (a receiver database), one of another schema
    version, or a file others may read or write (`chmod 600` it) is refused with
    `InvalidArgument` (field "db"); `create=False` refuses a missing file instead of creating
    it (mode 0600). A lock held by another process longer than `busy_timeout` (0 to 3600 s)
    raises `StoreBusy`, on open or in a call: nothing was written, retry."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0,
                 create: bool = True) -> None:
        self._path = str(path)
        self._conn = open_database(self._path, SCHEMA_VERSION, _SCHEMA,
                                   application_id=REPLAY_LOG_ID, busy_timeout=busy_timeout,
                                   create=create)

    def check_and_insert(self, batch: Sequence[tuple[bytes, int]], *,
                         batch_id: bytes | None = None) -> frozenset[int]:
        entries = _entries(batch)
        bid = _batch_id(batch_id)
        replays = set()
        cur = self._conn.cursor()
        # The write lock is taken before anything is read: two processes cannot both accept
        # the same onion, and a batch is exactly one transaction.
        with transaction(self._conn, self._path):
            if bid is not None:
                row = cur.execute("SELECT replays FROM replay_batches WHERE batch_id = ?",
                                  (bid,)).fetchone()
                if row is not None:
                    return _unpack(row[0])
            for i, (key, cltv) in enumerate(entries):
                # An existing key (from the log or earlier in this batch) inserts nothing.
                cur.execute("INSERT OR IGNORE INTO replay_log VALUES (?, ?)", (key, cltv))
                if cur.rowcount == 0:
                    replays.add(i)
            if bid is not None:
                cur.execute("INSERT INTO replay_batches VALUES (?, ?, ?)",
                            (bid, _pack(frozenset(replays)), _last_cltv(entries)))
        return frozenset(replays)

    def contains(self, shared_secret: bytes) -> bool:
        row = self._conn.execute("SELECT 1 FROM replay_log WHERE hash_prefix = ?",
                                 (hash_prefix(shared_secret),)).fetchone()
        return row is not None

    def gc(self, height: int) -> int:
        cur = self._conn.cursor()
        with transaction(self._conn, self._path):
            cur.execute("DELETE FROM replay_log WHERE cltv < ?", (height,))
            removed = cur.rowcount
            # A batch's answer is kept as long as its last HTLC could still be resent.
            cur.execute("DELETE FROM replay_batches WHERE cltv < ?", (height,))
        return removed

    def __len__(self) -> int:
        (count,) = self._conn.execute("SELECT COUNT(*) FROM replay_log").fetchone()
        return int(count)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteReplayLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_and_record(log: ReplayLog, shared_secret: bytes, cltv: int,
                     batch_id: bytes | None = None) -> None:
    """Record one peeled onion, or raise `ReplayedOnion` if the log has seen it (outside the
    batch `batch_id`, when that batch was committed before)."""
    if log.check_and_insert([(shared_secret, cltv)], batch_id=batch_id):
        raise ReplayedOnion(
            "onion replayed: its shared secret is already in the replay log",
            field="shared_secret", reason="replayed_onion",
        )
