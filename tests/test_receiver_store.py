"""The Store contract over both implementations, and a receiver restarted on its SQLite file."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from sphinxamp import Accepted, Fail, HopPayload, IncomingHtlc, Receiver, Settle
from sphinxamp._codes import INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS as PERM15
from sphinxamp.errors import InvalidArgument, StoreConflict
from sphinxamp.receiver import (
    Change,
    HtlcRecord,
    HtlcState,
    ResolutionResult,
    SetRecord,
    SetState,
    SqliteStore,
    Store,
)
from tests.test_receiver import HEIGHT, feed, keysend_htlc, make_payment, sha256

R = ResolutionResult
HELD, SETTLED, FAILED = HtlcState.HELD, HtlcState.SETTLED, HtlcState.FAILED
U64_MAX = (1 << 64) - 1
SET_A, SET_B = b"\xaa" * 32, b"\xbb" * 32
ADDR = b"\x01" * 32


def held(htlc_id: int | str, at: float, set_id: bytes = SET_A, amount: int = 10) -> HtlcRecord:
    return HtlcRecord(htlc_id, sha256(str(htlc_id).encode()), amount, at, HELD, set_id,
                      b"\x05" * 32, 7, total_msat=100, cltv_expiry=900, accept_height=800,
                      invoice=ADDR)


def write(store: Store, change: Change) -> None:
    with store.transaction():
        store.apply(change)


@pytest.fixture
def filled(store: Store) -> Store:
    """Set A open with HTLCs 1 (t=5), "2" (t=3) and 3 (t=5); set B open with 4 (t=1)."""
    write(store, Change(new_set=SetRecord(SET_A, ADDR, 100, SetState.OPEN), new_htlc=held(1, 5)))
    write(store, Change(new_htlc=held("2", 3)))
    write(store, Change(new_htlc=held(3, 5)))
    write(store, Change(new_set=SetRecord(SET_B, ADDR, 7, SetState.OPEN),
                        new_htlc=held(4, 1, SET_B)))
    return store


def ids(records: list[HtlcRecord]) -> list[int | str]:
    return [r.htlc_id for r in records]


# --- the contract -----------------------------------------------------------------------


def test_records_read_back_as_written(filled: Store) -> None:
    assert filled.htlc(1) == held(1, 5)
    assert filled.htlc("2") == held("2", 3)
    assert filled.htlc("1") is None and filled.htlc(2) is None
    assert filled.amp_set(SET_A) == SetRecord(SET_A, ADDR, 100, SetState.OPEN)
    assert filled.amp_set(b"\x00" * 32) is None
    assert ids(filled.set_htlcs(SET_A, HELD)) == [1, "2", 3]  # arrival order
    assert filled.set_htlcs(SET_A, SETTLED) == []


def test_settle_moves_held_htlcs_and_the_set(filled: Store) -> None:
    write(filled, Change(set_id=SET_A, set_state=SetState.SETTLED,
                         settle=((1, b"p1" * 16), ("2", b"p2" * 16), (3, b"p3" * 16))))
    assert ids(filled.set_htlcs(SET_A, SETTLED)) == [1, "2", 3]
    assert filled.set_htlcs(SET_A, HELD) == []
    assert filled.htlc("2") == replace(held("2", 3), state=SETTLED, preimage=b"p2" * 16)
    set_a = filled.amp_set(SET_A)
    assert set_a is not None and set_a.state is SetState.SETTLED
    assert filled.amount_paid(ADDR) == 30
    assert filled.amount_paid(b"\x02" * 32) == 0


def test_fail_moves_held_htlcs(filled: Store) -> None:
    write(filled, Change(fail=(1, 4), failure_code=23, reason="mpp_timeout"))
    record = filled.htlc(4)
    assert record is not None and record.state is FAILED
    assert (record.failure_code, record.reason) == (23, "mpp_timeout")
    assert ids(filled.set_htlcs(SET_A, HELD)) == ["2", 3]
    assert ids(filled.set_htlcs(SET_A, FAILED)) == [1]


def test_expired_by_arrival_time_then_order(filled: Store) -> None:
    assert ids(filled.expired(0.5)) == []
    assert ids(filled.expired(3.0)) == [4, "2"]
    assert ids(filled.expired(5.0)) == [4, "2", 1, 3]
    assert filled.earliest_held() == 1
    write(filled, Change(fail=(4, "2"), failure_code=23, reason="mpp_timeout"))
    assert ids(filled.expired(99.0)) == [1, 3]
    assert filled.earliest_held() == 5
    write(filled, Change(fail=(1, 3), failure_code=23, reason="mpp_timeout"))
    assert filled.earliest_held() is None


def test_an_htlc_stored_twice_writes_nothing(filled: Store) -> None:
    change = Change(new_set=SetRecord(b"\xcc" * 32, ADDR, 1, SetState.OPEN),
                    new_htlc=held(1, 9, b"\xcc" * 32))
    with pytest.raises(StoreConflict):
        write(filled, change)
    assert filled.amp_set(b"\xcc" * 32) is None and filled.htlc(1) == held(1, 5)


@pytest.mark.parametrize("change", [
    Change(settle=((1, bytes(32)), (99, bytes(32)))),  # 99 was never stored
    Change(new_htlc=held(5, 1), fail=(1, 4, 5), failure_code=23, reason="x"),  # 5 not held
    Change(set_id=SET_A, set_state=SetState.SETTLED, settle=((1, bytes(32)),), fail=(1,),
           failure_code=1, reason="x"),  # 1 moved twice
])
def test_moving_an_htlc_that_is_not_held_writes_nothing(filled: Store, change: Change) -> None:
    with pytest.raises(StoreConflict):
        write(filled, change)
    assert ids(filled.set_htlcs(SET_A, HELD)) == [1, "2", 3]
    assert filled.htlc(5) is None
    set_a = filled.amp_set(SET_A)
    assert set_a is not None and set_a.state is SetState.OPEN


def test_settled_is_final(filled: Store) -> None:
    write(filled, Change(settle=((4, bytes(32)),)))
    with pytest.raises(StoreConflict):
        write(filled, Change(fail=(4,), failure_code=23, reason="mpp_timeout"))
    record = filled.htlc(4)
    assert record is not None and record.state is SETTLED


def test_a_failed_transaction_leaves_nothing_behind(filled: Store) -> None:
    before = [filled.htlc(i) for i in (1, "2", 3, 4)]
    with pytest.raises(StoreConflict), filled.transaction():
        filled.apply(Change(new_htlc=held(5, 0.5), settle=((1, bytes(32)),),
                            set_id=SET_A, set_state=SetState.SETTLED))
        filled.apply(Change(fail=("2", 4), failure_code=23, reason="mpp_timeout"))
        filled.apply(Change(new_htlc=held(5, 9)))  # stored twice: the whole transaction goes
    assert [filled.htlc(i) for i in (1, "2", 3, 4)] == before and filled.htlc(5) is None
    set_a = filled.amp_set(SET_A)
    assert set_a is not None and set_a.state is SetState.OPEN
    assert ids(filled.set_htlcs(SET_A, HELD)) == [1, "2", 3]
    assert ids(filled.expired(99.0)) == [4, "2", 1, 3] and filled.earliest_held() == 1


@pytest.mark.parametrize("change", [
    Change(set_state=SetState.FAILED), Change(fail=(1,)), Change(fail=(1,), failure_code=23),
])
def test_malformed_changes_are_refused(filled: Store, change: Change) -> None:
    with pytest.raises(StoreConflict):
        write(filled, change)


def test_u64_amounts_and_large_ids_round_trip(store: Store) -> None:
    big = HtlcRecord((1 << 63) - 1, bytes(32), U64_MAX, 1e9, HELD, SET_A, bytes(32), 0xFFFFFFFF,
                     total_msat=U64_MAX, cltv_expiry=2**32 - 1, invoice=ADDR)
    write(store, Change(new_set=SetRecord(SET_A, ADDR, U64_MAX, SetState.OPEN), new_htlc=big))
    assert store.htlc((1 << 63) - 1) == big
    set_a = store.amp_set(SET_A)
    assert set_a is not None and set_a.total_msat == U64_MAX
    write(store, Change(settle=(((1 << 63) - 1, bytes(32)),)))
    assert store.amount_paid(ADDR) == U64_MAX


# --- SQLite specifics ---------------------------------------------------------------------


def test_sqlite_uses_wal_and_the_chosen_synchronous_mode(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    full, normal = SqliteStore(path), SqliteStore(path, synchronous="normal")
    assert (full.synchronous, normal.synchronous) == ("FULL", "NORMAL")
    full.close()
    normal.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(InvalidArgument):
        SqliteStore(path, synchronous="OFF")


def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    first = SqliteStore(path)
    write(first, Change(new_set=SetRecord(SET_A, ADDR, 100, SetState.OPEN), new_htlc=held(1, 5)))
    write(first, Change(new_htlc=held("x", 2.5)))
    first.close()
    again = SqliteStore(path)
    assert again.htlc(1) == held(1, 5) and again.htlc("x") == held("x", 2.5)
    assert again.amp_set(SET_A) == SetRecord(SET_A, ADDR, 100, SetState.OPEN)
    again.close()


def test_sqlite_rolls_back_what_a_failed_transaction_wrote(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    store = SqliteStore(path)
    with pytest.raises(RuntimeError), store.transaction():
        store.apply(Change(new_set=SetRecord(SET_A, ADDR, 1, SetState.OPEN),
                           new_htlc=held(1, 1)))
        raise RuntimeError("crash between the write and the commit")
    assert store.htlc(1) is None and store.amp_set(SET_A) is None
    store.close()


# --- a receiver restarted on the same file ------------------------------------------------


def test_receiver_resumes_every_set_after_a_restart(tmp_path: Path) -> None:
    rng, path = random.Random(7), str(tmp_path / "rx.db")
    partial, done, broken = (make_payment(rng, [100, 100, 100]), make_payment(rng, [50, 50]),
                             make_payment(rng, [10, 10]))
    store = SqliteStore(path)
    rx = Receiver(store, accept_amp=True, accept_keysend=True)
    rx.receive(partial.shards[0].htlc("p0"), now=1000.0, height=HEIGHT)
    rx.receive(partial.shards[1].htlc("p1"), now=1010.0, height=HEIGHT)
    settle = [rx.receive(s.htlc(f"d{i}"), now=1001.0, height=HEIGHT)
              for i, s in enumerate(done.shards)][-1]
    rx.receive(broken.shards[0].htlc("b0"), now=1002.0, height=HEIGHT)
    wrong = broken.shards[1].htlc("b1", payment_hash=sha256(b"x"))
    assert isinstance(rx.receive(wrong, now=1003.0, height=HEIGHT), Fail)
    keysend = keysend_htlc("k", b"\x09" * 32)
    refused = keysend_htlc("r", b"\x09" * 32, payment_hash=bytes(32))
    keysend_settle = rx.receive(keysend, now=1.0, height=HEIGHT)
    refusal = rx.receive(refused, now=1.0, height=HEIGHT)
    store.close()

    rx = Receiver(SqliteStore(path), accept_amp=True, accept_keysend=True)
    assert rx.receive(partial.shards[0].htlc("p0"), now=2000.0, height=HEIGHT) == Accepted(
        "p0", partial.set_id, 200, 300, 1120.0)
    assert rx.next_deadline() == 1120.0  # timers run from the original arrivals
    assert rx.receive(done.shards[1].htlc("d1"), now=2000.0, height=HEIGHT) == settle
    assert rx.receive(keysend, now=2000.0, height=HEIGHT) == keysend_settle
    assert rx.receive(refused, now=2000.0, height=HEIGHT) == refusal
    assert rx.receive(broken.shards[1].htlc("b1"), now=2000.0, height=HEIGHT) == Fail(
        ("b1",), PERM15, ResolutionResult.REPLAY_TO_CANCELED, broken.set_id)
    late = make_payment(rng, [10], set_id=broken.set_id, payment_addr=broken.payment_addr,
                        total=20)
    assert rx.receive(late.shards[0].htlc("late"), now=2000.0, height=HEIGHT) == Fail(
        ("late",), PERM15, ResolutionResult.INVOICE_NOT_OPEN)
    last = rx.receive(partial.shards[2].htlc("p2"), now=1100.0, height=HEIGHT)
    assert isinstance(last, Settle) and dict(last.preimages) == {
        f"p{i}": s.preimage for i, s in enumerate(partial.shards)}
    rx.store.close()


def test_held_htlcs_time_out_on_their_original_clock_after_a_restart(tmp_path: Path) -> None:
    rng, path = random.Random(8), str(tmp_path / "rx.db")
    payment = make_payment(rng, [100, 100])
    store = SqliteStore(path)
    Receiver(store, accept_amp=True).receive(payment.shards[0].htlc(0), now=500.0, height=HEIGHT)
    store.close()
    rx = Receiver(SqliteStore(path), accept_amp=True, accept_keysend=True)
    assert rx.expire(619.0) == ()
    assert rx.expire(620.0) == (Fail((0,), 23, ResolutionResult.MPP_TIMEOUT, payment.set_id),)
    rx.store.close()


# --- duplicates: answered from the store ----------------------------------------------


def test_duplicate_of_a_held_htlc_is_accepted_again(rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000, 1000])
    first = rx.receive(payment.shards[0].htlc(0), now=1.0, height=HEIGHT)
    assert rx.receive(payment.shards[0].htlc(0), now=50.0, height=HEIGHT) == first
    rx.receive(payment.shards[1].htlc(1), now=2.0, height=HEIGHT)
    assert rx.receive(payment.shards[0].htlc(0), now=3.0, height=HEIGHT) == Accepted(
        0, payment.set_id, 2000, 3000, 121.0)
    # The duplicate did not restart the HTLC's timer.
    assert rx.expire(121.0) == (Fail((0,), 23, R.MPP_TIMEOUT, payment.set_id),)


def test_duplicate_of_a_settled_htlc_repeats_the_settle(rx: Receiver,
                                                       rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    settle = feed(rx, payment)[-1]
    for i, shard in enumerate(payment.shards):
        assert rx.receive(shard.htlc(i), now=9.0, height=HEIGHT) == settle
    preimage = rng.randbytes(32)
    keysend = rx.receive(keysend_htlc("k", preimage), now=1.0, height=HEIGHT)
    assert rx.receive(keysend_htlc("k", preimage), now=2.0, height=HEIGHT) == keysend


def test_duplicate_of_a_failed_htlc_repeats_its_failure(rx: Receiver,
                                                       rng: random.Random) -> None:
    """An HTLC failed after it reached an invoice (here: timed out) is answered
    incorrect_or_unknown_payment_details when resent (lnd invoices/update.go
    `resolveReplayedHtlc`: ResultReplayToCanceled), not mpp_timeout again; one refused before
    any invoice is refused the same way again (lnd decides it again from the same data)."""
    payment = make_payment(rng, [1000, 1000])
    rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT)
    rx.expire(200.0)
    assert rx.receive(payment.shards[0].htlc(0), now=201.0, height=HEIGHT) == Fail(
        (0,), PERM15, R.REPLAY_TO_CANCELED, payment.set_id)
    refused = payment.shards[1].htlc(1, amount_msat=1)
    first = rx.receive(refused, now=1.0, height=HEIGHT)
    assert first == Fail((1,), 19, R.INCORRECT_HTLC_AMOUNT)
    assert rx.receive(refused, now=2.0, height=HEIGHT) == first


def test_a_duplicate_id_is_answered_from_the_store_not_decided_again(
        rx: Receiver, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    rx.receive(payment.shards[0].htlc(0), now=0.0, height=HEIGHT)
    # Same id, other content: the HTLC is known, so this is a replay, not a second shard.
    assert rx.receive(payment.shards[1].htlc(0), now=1.0, height=HEIGHT) == Accepted(
        0, payment.set_id, 1000, 2000, 120.0)


# --- inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"htlc_id": True}, {"htlc_id": -1}, {"htlc_id": 1 << 63}, {"htlc_id": 1.0},
    {"payment_hash": bytes(31)}, {"amount_msat": -1}, {"amount_msat": 1 << 64},
    {"cltv_expiry": 1 << 32},
])
def test_incoming_htlc_fields_are_checked(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {"htlc_id": 1, "payment_hash": bytes(32), "amount_msat": 1,
                                 "cltv_expiry": 1, "payload": HopPayload(1, 1)}
    with pytest.raises(InvalidArgument):
        IncomingHtlc(**{**fields, **changes})  # type: ignore[arg-type]


def test_hold_must_be_positive(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        Receiver(store, hold_seconds=0)


# --- the SQLite helper: open with a clear error, schema version --------------------------


def test_open_database_creates_checks_and_refuses(tmp_path: Path) -> None:
    from sphinxamp._sqlite import open_database

    schema = "CREATE TABLE IF NOT EXISTS t (x INTEGER)"
    path = str(tmp_path / "v.db")
    db = open_database(path, 7, schema)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 7
    db.execute("INSERT INTO t VALUES (1)")
    db.close()
    again = open_database(path, 7, schema)  # same version: opened as it is
    assert again.execute("SELECT x FROM t").fetchall() == [(1,)]
    again.close()
    for target, version, reason in ((path, 8, "schema_version"),
                                    (str(tmp_path), 7, None),  # a directory
                                    (str(tmp_path / "no" / "such" / "dir.db"), 7, None)):
        with pytest.raises(InvalidArgument) as info:
            open_database(target, version, schema)
        assert info.value.field == "db"
        assert reason is None or info.value.reason == reason
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00not a database" * 64)
    with pytest.raises(InvalidArgument) as info:
        SqliteStore(str(junk))
    assert info.value.reason == "not_a_database"
