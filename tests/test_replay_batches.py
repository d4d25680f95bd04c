"""Replay-log batches with ids (lightning-onion `replaylog.go` / `batch.go`, DecayedLog
PutBatch: a batch id committed before returns the replay set of its first commit), so a node
that crashed between commit and action reprocesses its batch with the same answers."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sphinxamp import build_onion, process_hop
from sphinxamp.onion import MemoryReplayLog, ReplayLog, SqliteReplayLog

WORKER = Path(__file__).with_name("replay_batch_worker.py")
SECRETS = [hashlib.sha256(bytes([i])).digest() for i in range(6)]



def test_a_batch_id_committed_again_repeats_its_first_answer(
        replay_log: Callable[[], ReplayLog]) -> None:
    log = replay_log()
    first = log.check_and_insert([(SECRETS[0], 9), (SECRETS[1], 9), (SECRETS[0], 9)],
                                 batch_id=b"b1")
    assert first == {2}
    log = replay_log()  # a restart, for the SQLite log
    again = log.check_and_insert([(SECRETS[0], 9), (SECRETS[1], 9), (SECRETS[0], 9)],
                                 batch_id=b"b1")
    assert again == {2}
    # Without the id the same onions are replays, as a restarted node would see them.
    assert log.check_and_insert([(SECRETS[0], 9), (SECRETS[1], 9)]) == {0, 1}


def test_another_batch_id_is_checked_against_the_log(replay_log: Callable[[], ReplayLog]) -> None:
    log = replay_log()
    log.check_and_insert([(SECRETS[2], 9)], batch_id=b"b1")
    assert log.check_and_insert([(SECRETS[2], 9), (SECRETS[3], 9)], batch_id=b"b2") == {0}


def test_gc_forgets_a_batch_once_its_htlcs_expired(replay_log: Callable[[], ReplayLog]) -> None:
    log = replay_log()
    log.check_and_insert([(SECRETS[4], 50)], batch_id=b"old")
    log.gc(51)
    # The id is forgotten with its entries: the batch is judged anew (and is no replay).
    assert log.check_and_insert([(SECRETS[4], 50)], batch_id=b"old") == frozenset()
    assert log.check_and_insert([(SECRETS[4], 50)], batch_id=b"old") == frozenset()


def test_process_hop_repeats_the_answer_for_the_same_batch() -> None:
    onion = build_onion(b"\x41" * 32, [(bytes.fromhex(
        "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"),
        bytes.fromhex("02020100040190"))], b"\x42" * 32).to_bytes()
    log = MemoryReplayLog()
    for _ in range(2):
        # The final payload asks for 256 msat expiring at 144.
        hop = process_hop(onion, b"\x41" * 32, b"\x42" * 32, replay_log=log,
                          incoming_amount_msat=256, incoming_cltv_expiry=144,
                          current_block_height=0, batch_id=b"chan 1 commit 7")
        assert hop.is_final


def run_worker(db: Path, first: int, last: int, *extra: str) -> list[dict[str, object]]:
    """Run the worker from batch `first`; the answers it printed before it ended or died."""
    proc = subprocess.run([sys.executable, str(WORKER), str(db), str(first), str(last), *extra],
                          stdout=subprocess.PIPE, text=True, check=False)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.endswith("}")]


def crash_and_resume(db: Path, *extra: str) -> list[list[int]]:
    """Batches 0..59 under random crashes right after a commit, each restart resuming at the
    first batch whose answer was not seen (the crashed one); every batch's seen answer."""
    rng = random.Random(8)
    done, last, seen = 0, 60, []
    while done < last:
        crash = rng.randrange(done, last + 3)  # past `last`: the run ends without a crash
        answers = run_worker(db, done, last, "--crash-after", str(crash), *extra)
        seen += [list(a["replays"]) for a in answers]  # type: ignore[call-overload]
        done += len(answers)
    return seen


def test_batches_survive_sigkill_without_false_replays(tmp_path: Path) -> None:
    seen = crash_and_resume(tmp_path / "r.db")
    assert len(seen) == 60 and all(replays == [] for replays in seen)
    with SqliteReplayLog(tmp_path / "r.db") as log:
        assert len(log) == 60 * 8


def test_without_batch_ids_a_crashed_batch_comes_back_as_replays(tmp_path: Path) -> None:
    seen = crash_and_resume(tmp_path / "r.db", "--no-ids")
    assert any(replays == list(range(8)) for replays in seen)
