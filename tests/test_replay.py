"""Replay log: batch decisions, persistence across a SIGKILL, garbage collection by height, and
two processes writing one database.

Expected replay sets are worked out by hand from the batches (first sighting accepted, every
later one a replay); the stored key is checked against SHA256 computed here with hashlib.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sphinxamp.errors import ReplayedOnion, SphinxampError
from sphinxamp.onion import MemoryReplayLog, ReplayLog, SqliteReplayLog
from sphinxamp.onion._replay import check_and_record

WORKER = Path(__file__).with_name("replay_worker.py")
REPO = Path(__file__).resolve().parent.parent


def secret(n: int) -> bytes:
    return hashlib.sha256(b"shared secret %d" % n).digest()


A, B, C, D = (secret(i) for i in range(4))


@pytest.fixture(params=["memory", "sqlite"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReplayLog]:
    made: ReplayLog = (MemoryReplayLog() if request.param == "memory"
                       else SqliteReplayLog(tmp_path / "replay.db"))
    yield made
    made.close()


def test_replays_within_one_batch(log: ReplayLog) -> None:
    assert log.check_and_insert([(A, 700), (B, 700), (A, 700), (C, 701), (B, 702)]) == {2, 4}
    assert len(log) == 3


def test_replays_across_batches(log: ReplayLog) -> None:
    assert log.check_and_insert([(A, 700), (B, 700)]) == frozenset()
    assert log.check_and_insert([(C, 700), (A, 700), (D, 700), (B, 900)]) == {1, 3}
    assert log.check_and_insert([]) == frozenset()
    assert all(log.contains(s) for s in (A, B, C, D))
    assert not log.contains(secret(99))


def test_a_replay_with_another_cltv_is_still_a_replay(log: ReplayLog) -> None:
    log.check_and_insert([(A, 500)])
    assert log.check_and_insert([(A, 800_000)]) == {0}


def test_gc_drops_entries_whose_expiry_the_chain_has_passed(log: ReplayLog) -> None:
    log.check_and_insert([(A, 100), (B, 101), (C, 102)])
    assert log.gc(100) == 0  # cltv 100 is not below height 100
    assert log.gc(101) == 1
    assert not log.contains(A) and log.contains(B) and log.contains(C)
    # Once forgotten, the same onion is accepted again (its HTLC could no longer settle).
    assert log.check_and_insert([(A, 200)]) == frozenset()
    assert log.gc(103) == 2
    assert [log.contains(s) for s in (A, B, C)] == [True, False, False]


def test_invalid_entries_refuse_the_whole_batch(log: ReplayLog) -> None:
    with pytest.raises(SphinxampError):
        log.check_and_insert([(A, 1), (b"short", 1)])
    with pytest.raises(SphinxampError):
        log.check_and_insert([(A, 1), (B, -1)])
    assert len(log) == 0 and not log.contains(A)


def test_check_and_record_raises_replayed_onion(log: ReplayLog) -> None:
    check_and_record(log, A, 800)
    with pytest.raises(ReplayedOnion) as info:
        check_and_record(log, A, 800)
    assert type(info.value).__name__ == "ReplayedOnion"
    assert info.value.reason == "replayed_onion"
    # lnd answers a replay with invalid_onion_version: the reply travels in
    # update_fail_malformed_htlc, which must carry the BADONION bit (BOLT 2 › Removing an HTLC).
    assert info.value.failure_code == 0xC004
    assert info.value.failure_name == "invalid_onion_version"


def test_sqlite_stores_the_20_byte_hash_prefix_not_the_secret(tmp_path: Path) -> None:
    with SqliteReplayLog(tmp_path / "r.db") as log:
        log.check_and_insert([(A, 812_345)])
    rows = sqlite3.connect(tmp_path / "r.db").execute("SELECT * FROM replay_log").fetchall()
    assert rows == [(hashlib.sha256(A).digest()[:20], 812_345)]


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    with SqliteReplayLog(tmp_path / "r.db") as log:
        log.check_and_insert([(A, 10), (B, 10)])
    with SqliteReplayLog(tmp_path / "r.db") as log:
        assert log.check_and_insert([(B, 10), (C, 10)]) == {0}


def test_replayed_onion_pickles_with_its_attributes() -> None:
    err = ReplayedOnion("again", field="shared_secret", offset=3, reason="replayed_onion")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ReplayedOnion and vars(back) == vars(err)


# --- separate processes ---------------------------------------------------------------------


def _worker(db: Path, secrets: list[bytes], tmp: Path, name: str, *extra: str,
            batch: int = 10) -> subprocess.Popen[str]:
    listing = tmp / f"{name}.txt"
    listing.write_text("".join(s.hex() + "\n" for s in secrets))
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db), str(listing), "800000", str(batch), *extra],
        stdout=subprocess.PIPE, text=True, env=env,
    )


def _replayed(proc: subprocess.Popen[str]) -> set[bytes]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "worker printed nothing"
    return {bytes.fromhex(h) for h in json.loads(line)["replayed"]}


def test_replay_caught_after_sigkill_and_restart(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    proc = _worker(db, [A, B, A], tmp_path, "first", "--hang")
    try:
        assert _replayed(proc) == {A}  # the third entry, a replay inside the run
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no close, no checkpoint: the WAL must carry it
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    restarted = _worker(db, [C, B, A, D], tmp_path, "second")
    assert _replayed(restarted) == {A, B}
    assert restarted.wait() == 0


def test_two_processes_lose_no_entries(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    SqliteReplayLog(db).close()  # create the schema before the race
    only_1 = [secret(1000 + i) for i in range(120)]
    only_2 = [secret(2000 + i) for i in range(120)]
    shared = [secret(3000 + i) for i in range(120)]
    # Interleave so both processes reach the shared keys at about the same time.
    first = [s for pair in zip(only_1, shared, strict=True) for s in pair]
    second = [s for pair in zip(only_2, reversed(shared), strict=True) for s in pair]
    go = tmp_path / "go"
    procs = [_worker(db, first, tmp_path, "w1", "--go", str(go), batch=3),
             _worker(db, second, tmp_path, "w2", "--go", str(go), batch=3)]
    go.touch()
    replayed = [_replayed(p) for p in procs]
    assert [p.wait() for p in procs] == [0, 0]
    with SqliteReplayLog(db) as log:
        assert len(log) == 360
        assert all(log.contains(s) for s in only_1 + only_2 + shared)
    assert replayed[0] | replayed[1] == set(shared)  # nothing unshared is ever a replay
    assert replayed[0] & replayed[1] == set()  # each shared key: exactly one writer saw it


# --- both implementations against a set model -----------------------------------------------


def _sqlite_memory() -> ReplayLog:
    return SqliteReplayLog(":memory:")


@pytest.mark.parametrize("make", [MemoryReplayLog, _sqlite_memory], ids=["memory", "sqlite"])
@given(batches=st.lists(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 6)),
                                 max_size=8), max_size=6),
       height=st.integers(0, 8))
def test_matches_a_set_model(make: Callable[[], ReplayLog],
                             batches: list[list[tuple[int, int]]], height: int) -> None:
    log = make()
    seen: dict[int, int] = {}
    for batch in batches:
        expected = set()
        for i, (n, cltv) in enumerate(batch):
            if n in seen:
                expected.add(i)
            else:
                seen[n] = cltv
        assert log.check_and_insert([(secret(n), cltv) for n, cltv in batch]) == expected
    assert log.gc(height) == sum(1 for c in seen.values() if c < height)
    assert {n for n in range(13) if log.contains(secret(n))} == {
        n for n, c in seen.items() if c >= height}
    log.close()
