"""SQLite for the library's stores: open with a clear error, check the schema version, run
explicit transactions.

Every store file carries its schema version in `PRAGMA user_version`. A new (empty) file is
created at the version asked for; a file at another version is refused rather than read with
the wrong layout. A path that cannot be opened, or a file that is not an SQLite database,
raises `InvalidArgument` (field "db") instead of a bare sqlite3 traceback.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from ._errors import InvalidArgument

SYNCHRONOUS = ("FULL", "NORMAL")


def _refuse(path: str, why: str, reason: str) -> InvalidArgument:
    return InvalidArgument(f"{path}: {why}", field="db", reason=reason)


def open_database(path: str, schema_version: int, create_sql: str, *,
                  synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions via `transaction`), WAL journaling,
    the schema created if the file is new, its version checked if not. `create_sql` must
    use CREATE … IF NOT EXISTS (two processes may create a new file at once)."""
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS:
        raise InvalidArgument(f"synchronous must be one of {SYNCHRONOUS}, got {synchronous!r}",
                              field="synchronous")
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _refuse(path, f"cannot open the database: {exc}", "cannot_open") from None
    try:
        _prepare(db, path, schema_version, create_sql, mode)
    except BaseException:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: str, version: int, create_sql: str,
             mode: str) -> None:
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        journal = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        db.execute(f"PRAGMA synchronous = {mode}")
        with transaction(db):
            found = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if found == 0 and tables == 0:
            # executescript commits any open transaction first, so the script brings its
            # own; a concurrent creator is harmless as the schema says IF NOT EXISTS.
            db.executescript(f"BEGIN IMMEDIATE; {create_sql}; "
                             f"PRAGMA user_version = {int(version)}; COMMIT;")
        elif found != version:
            raise _refuse(path, f"schema version {found}, this library reads version "
                          f"{version}", "schema_version")
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"not a usable SQLite database: {exc}", "not_a_database") from None
    if str(journal).lower() != "wal" and path != ":memory:":
        raise _refuse(path, "the database cannot use WAL journaling", "journal_mode")


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT: the write lock is taken before the first read, so what a
    decision read cannot change under it before its writes commit; rolled back on error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # a failed COMMIT may leave it open (SQLITE_BUSY)
            db.execute("ROLLBACK")
        raise
