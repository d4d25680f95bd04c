"""SQLite for the library's stores: open with a clear error, tell the stores apart, keep their
files private, report a lock as a lock, run explicit transactions.

Every store file carries its kind in `PRAGMA application_id` (the header field SQLite keeps
for telling file formats apart: sqlite.org/fileformat.html › Application ID) and its schema
version in `PRAGMA user_version`. A new (empty) file is created with both; a file of another
kind, or at another version, is refused rather than read with the wrong layout. A file
written before the kinds had ids (id 0) is adopted when its version and tables are the
store's own. A path that cannot be opened, a file that is not an SQLite database, or a store
that was asked to exist and does not, raises `InvalidArgument` (field "db") instead of a bare
sqlite3 traceback.

The files hold secrets (payment addresses, the preimages of held HTLCs): a new file is created
with mode 0600, and SQLite's unix VFS gives its -wal and -shm files the same mode. A file that
the group or others may read or write is refused (reason "permissions"); `chmod 600 FILE`
makes it usable again.

A lock another connection holds past `busy_timeout` raises `StoreBusy`, on open and in every
transaction: nothing was written, and the same call may be retried.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import stat
from collections.abc import Iterator

from sphinxamp.errors import InvalidArgument, StoreBusy

SYNCHRONOUS = ("FULL", "NORMAL")
# The application ids: "SXRS" (receiver store) and "SXRL" (replay log) in ASCII.
RECEIVER_STORE_ID = 0x53585253
REPLAY_LOG_ID = 0x5358524C
KIND_NAMES = {RECEIVER_STORE_ID: "receiver store", REPLAY_LOG_ID: "replay log"}
MAX_BUSY_TIMEOUT = 3600.0  # seconds: one hour of waiting is a hang, not a lock
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _refuse(path: str, why: str, reason: str) -> InvalidArgument:
    return InvalidArgument(f"{path}: {why}", field="db", reason=reason)


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): a lock someone else holds."""
    code = getattr(exc, "sqlite_errorcode", 0) or 0
    return isinstance(exc, sqlite3.OperationalError) and code & 0xFF in _BUSY_CODES


def _busy(where: str) -> StoreBusy:
    return StoreBusy(f"{where}: the database is locked by another connection (still after "
                     "busy_timeout); nothing was written, retry later", field="db",
                     reason="busy")


def open_database(path: str, schema_version: int, create_sql: str, *,
                  application_id: int = 0, synchronous: str = "FULL",
                  busy_timeout: float = 5.0, create: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions via `transaction`), WAL journaling,
    the schema created if the file is new, its kind and version checked if not. `create_sql`
    must use CREATE … IF NOT EXISTS (two processes may create a new file at once).
    `busy_timeout` (0 to 3600 s) is how long a call waits for another connection's lock;
    `create=False` refuses a file that does not exist instead of creating it."""
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS:
        raise InvalidArgument(f"synchronous must be one of {SYNCHRONOUS}, got {synchronous!r}",
                              field="synchronous")
    if not 0 <= busy_timeout <= MAX_BUSY_TIMEOUT:
        raise InvalidArgument(f"busy_timeout must be 0 to {MAX_BUSY_TIMEOUT:g} seconds, got "
                              f"{busy_timeout!r}", field="busy_timeout", reason="range")
    on_disk = path not in ("", ":memory:")
    if on_disk:
        _create_private(path, create)
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _refuse(path, f"cannot open the database: {exc}", "cannot_open") from None
    try:
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        _prepare(db, path, (application_id, schema_version), create_sql, mode)
        if on_disk:
            _check_private(path)
    except BaseException:
        db.close()
        raise
    return db


def _create_private(path: str, create: bool) -> None:
    """Create the file empty with mode 0600 (an empty file is an empty SQLite database), so
    it is never readable by others, not even between its creation and a chmod."""
    if not create:
        if not os.path.lexists(path):
            raise _refuse(path, "no such database (nothing was created)", "not_found")
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # an existing store, or a directory: sqlite3 judges it
        return
    except OSError as exc:
        raise _refuse(path, f"cannot open the database: {exc.strerror}", "cannot_open") from None


def _check_private(path: str) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise _refuse(path, f"mode {mode:04o} lets the group or others read or write it, and "
                      f"it holds preimages and payment addresses: run chmod 600 {path}",
                      "permissions")


@functools.lru_cache(maxsize=8)
def _tables_of(create_sql: str) -> frozenset[str]:
    """The tables a schema creates (made in memory to see them)."""
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.executescript(create_sql)
        return _tables(scratch)
    finally:
        scratch.close()


def _tables(db: sqlite3.Connection) -> frozenset[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return frozenset(str(name) for (name,) in rows)


def _prepare(db: sqlite3.Connection, path: str, want: tuple[int, int], create_sql: str,
             mode: str) -> None:
    app_id, version = want
    try:
        journal = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        db.execute(f"PRAGMA synchronous = {mode}")
        with transaction(db, path):
            found_id = db.execute("PRAGMA application_id").fetchone()[0]
            found = db.execute("PRAGMA user_version").fetchone()[0]
            tables = _tables(db)
            if found_id == found == 0 and not tables:
                for statement in _statements(create_sql):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {int(version)}")
                db.execute(f"PRAGMA application_id = {int(app_id)}")
            else:
                _identify(db, path, (found_id, found), want, tables, create_sql)
    except sqlite3.DatabaseError as exc:
        if is_busy(exc):
            raise _busy(path) from None
        raise _refuse(path, f"not a usable SQLite database: {exc}", "not_a_database") from None
    if str(journal).lower() != "wal" and path != ":memory:":
        raise _refuse(path, "the database cannot use WAL journaling", "journal_mode")


def _statements(sql: str) -> Iterator[str]:
    """The schema's statements one by one (inside the open transaction: executescript would
    commit it first)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending
            pending = ""


def _identify(db: sqlite3.Connection, path: str, found: tuple[int, int], want: tuple[int, int],
              tables: frozenset[str], create_sql: str) -> None:
    """Refuse a file of another kind or version; adopt a store from before the ids."""
    (found_id, found_version), (app_id, version) = found, want
    kind = KIND_NAMES.get(app_id, "store")
    if found_id not in (app_id, 0):
        what = KIND_NAMES.get(found_id, f"not a sphinxamp store (application_id "
                                        f"{found_id:#010x})")
        what = f"a sphinxamp {what}" if found_id in KIND_NAMES else what
        raise _refuse(path, f"this file is {what}, not a {kind}", "wrong_store")
    if found_version != version:
        raise _refuse(path, f"schema version {found_version}, this library reads version "
                      f"{version}", "schema_version")
    if found_id == 0 and app_id != 0:
        if tables != _tables_of(create_sql):
            raise _refuse(path, f"this file is not a {kind}: it holds the tables "
                          f"{', '.join(sorted(tables))}", "wrong_store")
        db.execute(f"PRAGMA application_id = {int(app_id)}")


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, where: str = "store") -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT: the write lock is taken before the first read, so what a
    decision read cannot change under it before its writes commit; rolled back on error.
    A lock still held by another connection after busy_timeout raises `StoreBusy`."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise _busy(where) from None
        raise
    try:
        yield
        db.execute("COMMIT")
    except BaseException as exc:
        if db.in_transaction:  # a failed COMMIT may leave it open (SQLITE_BUSY)
            db.execute("ROLLBACK")
        if is_busy(exc):
            raise _busy(where) from None
        raise
