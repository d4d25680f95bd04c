"""The stores' files: each kind is told apart by its SQLite application_id, created 0600 and
refused when others may read it, not created when it must exist, and a lock held by another
connection is `StoreBusy` (retryable), on open and on an open store, after busy_timeout."""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sphinxamp import Receiver, build_onion, errors, process_hop
from sphinxamp._sqlite import RECEIVER_STORE_ID, REPLAY_LOG_ID
from sphinxamp.errors import InvalidArgument, StoreBusy, StoreError
from sphinxamp.onion import SqliteReplayLog
from sphinxamp.receiver import MAX_INVOICE_EXPIRY, MemoryStore, SqliteStore
from tests.strategies import pubkey_of
from tests.test_receiver import HEIGHT, make_payment

NODE = bytes([0x42]) * 32


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """A second connection holding the write lock, as another process would."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _application_id(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA application_id").fetchone()[0])
    finally:
        db.close()


def test_errors_are_exported_and_in_the_store_branch() -> None:
    assert issubclass(StoreBusy, StoreError) and issubclass(StoreError, errors.SphinxampError)
    assert issubclass(errors.StoreConflict, StoreError)
    assert errors.StoreBusy is StoreBusy and errors.StoreError is StoreError


@pytest.mark.parametrize("opener", [SqliteStore, SqliteReplayLog])
def test_new_files_are_private_even_under_a_lax_umask(tmp_path: Path, opener: type) -> None:
    path = tmp_path / "s.db"
    old = os.umask(0o000)
    try:
        store = opener(str(path))
    finally:
        os.umask(old)
    try:
        assert _mode(path) == 0o600
        wal = Path(f"{path}-wal")
        assert not wal.exists() or _mode(wal) == 0o600
    finally:
        store.close()


@pytest.mark.parametrize("opener", [SqliteStore, SqliteReplayLog])
def test_a_file_others_can_read_is_refused_until_chmod_600(tmp_path: Path,
                                                            opener: type) -> None:
    path = tmp_path / "s.db"
    opener(str(path)).close()
    path.chmod(0o644)
    with pytest.raises(InvalidArgument) as info:
        opener(str(path))
    assert info.value.reason == "permissions" and f"chmod 600 {path}" in info.value.message
    path.chmod(0o600)
    opener(str(path)).close()


def test_each_kind_has_its_application_id(tmp_path: Path) -> None:
    SqliteStore(str(tmp_path / "rx.db")).close()
    SqliteReplayLog(tmp_path / "log.db").close()
    assert _application_id(tmp_path / "rx.db") == RECEIVER_STORE_ID
    assert _application_id(tmp_path / "log.db") == REPLAY_LOG_ID


def test_one_store_given_for_the_other_is_named(tmp_path: Path) -> None:
    rx, log = tmp_path / "rx.db", tmp_path / "log.db"
    SqliteStore(str(rx)).close()
    SqliteReplayLog(log).close()
    with pytest.raises(InvalidArgument) as info:
        SqliteReplayLog(rx)
    assert info.value.reason == "wrong_store"
    assert "is a sphinxamp receiver store, not a replay log" in info.value.message
    with pytest.raises(InvalidArgument) as info:
        SqliteStore(str(log))
    assert "is a sphinxamp replay log, not a receiver store" in info.value.message


def _clear_application_id(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 0")
    db.commit()
    db.close()


def test_a_store_from_before_the_ids_is_adopted_or_named_by_its_tables(tmp_path: Path) -> None:
    rx, log = tmp_path / "rx.db", tmp_path / "log.db"
    store = SqliteStore(str(rx))
    Receiver(store).add_invoice(now=1.0, payment_addr=b"\x01" * 32)
    store.close()
    SqliteReplayLog(log).close()
    _clear_application_id(rx)
    _clear_application_id(log)
    with pytest.raises(InvalidArgument) as info:  # same user_version 2, other tables
        SqliteStore(str(log))
    assert info.value.reason == "wrong_store" and "replay_log" in info.value.message
    again = SqliteStore(str(rx))  # its own tables: adopted, its data kept
    assert len(again.invoices()) == 1
    again.close()
    assert _application_id(rx) == RECEIVER_STORE_ID


@pytest.mark.parametrize("opener", [SqliteStore, SqliteReplayLog])
def test_create_false_does_not_create(tmp_path: Path, opener: type) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(InvalidArgument) as info:
        opener(str(path), create=False)
    assert info.value.reason == "not_found" and not path.exists()


@pytest.mark.parametrize("timeout", [-1, 3601, float("nan")])
def test_busy_timeout_has_bounds(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(InvalidArgument) as info:
        SqliteReplayLog(tmp_path / "log.db", busy_timeout=timeout)
    assert info.value.field == "busy_timeout"


@pytest.mark.parametrize("opener", [SqliteStore, SqliteReplayLog])
def test_a_lock_on_open_is_store_busy_after_busy_timeout(tmp_path: Path, opener: type) -> None:
    path = tmp_path / "s.db"
    opener(str(path)).close()
    with _locked(path):
        start = time.monotonic()
        with pytest.raises(StoreBusy) as info:
            opener(str(path), busy_timeout=1)
        waited = time.monotonic() - start
    assert 0.9 <= waited < 4, waited  # the default would wait 5 s (store) or 30 s (log)
    assert info.value.reason == "busy" and "retry" in info.value.message
    opener(str(path)).close()  # the lock released, the same call succeeds


def test_a_lock_on_an_open_store_is_store_busy(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "rx.db"), busy_timeout=0.1)
    rx = Receiver(store, accept_amp=True)
    shard = make_payment(random.Random(3), [100]).shards[0].htlc("h0")
    with _locked(tmp_path / "rx.db"):
        with pytest.raises(StoreBusy):
            rx.add_invoice(now=1.0)
        with pytest.raises(StoreBusy):
            rx.receive(shard, now=1.0, height=HEIGHT)
    assert rx.add_invoice(now=1.0).value_msat == 0  # retried once the lock is gone
    store.close()


# cltv_expiry= is the replay log's expiry in either spelling process_hop accepts.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_lock_on_an_open_replay_log_is_store_busy(tmp_path: Path) -> None:
    log = SqliteReplayLog(tmp_path / "log.db", busy_timeout=0.1)
    # A forwarding hop (amt_to_forward, outgoing_cltv_value, short_channel_id) and the next.
    forward = bytes.fromhex("020101040101060800000000000000aa")
    route = [(pubkey_of(NODE), forward), (pubkey_of(bytes([0x43]) * 32), bytes.fromhex(
        "020101040101"))]
    packet = build_onion(bytes([0x41]) * 32, route, b"").packet
    with _locked(tmp_path / "log.db"):
        with pytest.raises(StoreBusy):
            log.check_and_insert([(b"\x07" * 32, 10)])
        with pytest.raises(StoreBusy):
            process_hop(packet, NODE, b"", replay_log=log, cltv_expiry=10)
    assert not process_hop(packet, NODE, b"", replay_log=log, cltv_expiry=10).is_final
    assert len(log) == 1
    log.close()


# --- add_invoice retried after an interruption ------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_add_invoice_again_with_the_same_terms_is_answered_as_the_first_time(
        tmp_path: Path, kind: str) -> None:
    path = str(tmp_path / "rx.db")
    store = MemoryStore() if kind == "memory" else SqliteStore(path)
    addr = b"\x05" * 32
    first = Receiver(store).add_invoice(now=10.0, amount_msat=7, payment_addr=addr)
    if kind == "sqlite":  # the process died after the commit, before it answered
        store.close()
        store = SqliteStore(path)
    again = Receiver(store).add_invoice(now=99.0, amount_msat=7, payment_addr=addr)
    assert again == first and again.created_at == 10.0
    for other in ({"amount_msat": 8}, {"amount_msat": 7, "expiry_seconds": 60.0},
                  {"amount_msat": 7, "min_final_cltv_delta": 40}):
        with pytest.raises(InvalidArgument) as info:
            Receiver(store).add_invoice(now=99.0, payment_addr=addr, **other)
        assert info.value.reason == "duplicate"
    assert len(store.invoices()) == 1


@pytest.mark.parametrize("expiry", [1e23, MAX_INVOICE_EXPIRY + 1, float("inf"), float("nan"),
                                    0.0, -1.0])
def test_invoice_expiry_has_bounds(expiry: float) -> None:
    with pytest.raises(InvalidArgument) as info:
        Receiver(MemoryStore()).add_invoice(now=1.0, expiry_seconds=expiry)
    assert info.value.field == "expiry"
    assert Receiver(MemoryStore()).add_invoice(
        now=1.0, expiry_seconds=MAX_INVOICE_EXPIRY).expiry_seconds == MAX_INVOICE_EXPIRY
