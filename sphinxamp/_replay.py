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
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from ._errors import InvalidArgument, ReplayedOnion

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


class ReplayLog(Protocol):
    """What a node needs from a replay log; both implementations below provide it."""

    def check_and_insert(self, batch: Sequence[tuple[bytes, int]]) -> frozenset[int]:
        """Record every (shared_secret, cltv) of `batch` not seen before; return the indices of
        those that were (in the log already, or earlier in this batch). Atomic."""
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

    def check_and_insert(self, batch: Sequence[tuple[bytes, int]]) -> frozenset[int]:
        entries = _entries(batch)
        replays = set()
        for i, (key, cltv) in enumerate(entries):
            if key in self._entries:
                replays.add(i)
            else:
                self._entries[key] = cltv
        return frozenset(replays)

    def contains(self, shared_secret: bytes) -> bool:
        return hash_prefix(shared_secret) in self._entries

    def gc(self, height: int) -> int:
        expired = [k for k, cltv in self._entries.items() if cltv < height]
        for k in expired:
            del self._entries[k]
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
"""


class SqliteReplayLog:
    """The log in an SQLite database (embedded, WAL): survives restarts and crashes, and may
    be shared by several processes of one node."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        # isolation_level=None: this class issues BEGIN/COMMIT itself, so a batch is exactly
        # one transaction and its write lock is taken before anything is read.
        self._conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def check_and_insert(self, batch: Sequence[tuple[bytes, int]]) -> frozenset[int]:
        entries = _entries(batch)
        replays = set()
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for i, (key, cltv) in enumerate(entries):
                # An existing key (from the log or earlier in this batch) inserts nothing.
                cur.execute("INSERT OR IGNORE INTO replay_log VALUES (?, ?)", (key, cltv))
                if cur.rowcount == 0:
                    replays.add(i)
            cur.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return frozenset(replays)

    def contains(self, shared_secret: bytes) -> bool:
        row = self._conn.execute("SELECT 1 FROM replay_log WHERE hash_prefix = ?",
                                 (hash_prefix(shared_secret),)).fetchone()
        return row is not None

    def gc(self, height: int) -> int:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute("DELETE FROM replay_log WHERE cltv < ?", (height,))
            removed = cur.rowcount
            cur.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
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


def check_and_record(log: ReplayLog, shared_secret: bytes, cltv: int) -> None:
    """Record one peeled onion, or raise `ReplayedOnion` if the log has seen it."""
    if log.check_and_insert([(shared_secret, cltv)]):
        raise ReplayedOnion(
            "onion replayed: its shared secret is already in the replay log",
            field="shared_secret", reason="replayed_onion",
        )
