"""Batch ids: what one is, and how long its answer is kept when its entries expire at
different heights.

lightning-onion replaylog.go, `MemoryReplayLog.PutBatch`: a batch id committed before returns
the replay set of its first commit. lnd htlcswitch/decayedlog.go, `gcExpiredHashes`: an entry
is dropped once its CLTV is below the block height. A batch's entries that are still in the
log would come back as replays if the batch were judged anew, so its answer must live as long
as its longest-lived entry (the largest CLTV), and may go once every entry went.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from sphinxamp.errors import InvalidArgument
from sphinxamp.onion import ReplayLog

A, B, C = (hashlib.sha256(b"batch expiry %d" % i).digest() for i in range(3))
MIXED = [(A, 50), (B, 100), (C, 75)]  # the largest CLTV is not the last entry's



def test_a_retry_between_the_expiries_repeats_the_first_answer(
        replay_log: Callable[[], ReplayLog]) -> None:
    log = replay_log()
    assert log.check_and_insert(MIXED, batch_id=b"mixed") == frozenset()
    assert log.gc(76) == 2  # A (50) and C (75) are gone, B (100) is still in the log
    log = replay_log()
    # Judged anew, B would be a replay of itself; the id repeats the first answer instead.
    assert log.check_and_insert(MIXED, batch_id=b"mixed") == frozenset()
    assert len(log) == 1 and log.contains(B) and not log.contains(A)


def test_the_answer_lives_through_the_last_expiry_height(
        replay_log: Callable[[], ReplayLog]) -> None:
    log = replay_log()
    log.check_and_insert(MIXED, batch_id=b"mixed")
    assert log.gc(100) == 2  # cltv < height: B (100) is kept at height 100
    assert replay_log().check_and_insert(MIXED, batch_id=b"mixed") == frozenset()


def test_once_every_entry_expired_the_batch_is_judged_anew(
        replay_log: Callable[[], ReplayLog]) -> None:
    log = replay_log()
    log.check_and_insert(MIXED, batch_id=b"mixed")
    assert log.gc(101) == 3
    log = replay_log()
    assert log.check_and_insert([(A, 200), (A, 200)], batch_id=b"mixed") == {1}
    assert log.contains(A) and not log.contains(B)


@pytest.mark.parametrize("batch_id", ["b1", 7, [1, 2]])
def test_a_batch_id_that_is_not_bytes_is_the_callers_error(
        replay_log: Callable[[], ReplayLog], batch_id: object) -> None:
    """Refused before anything is read or written (an int would otherwise make a batch id of
    that many zero bytes), in both logs."""
    log = replay_log()
    with pytest.raises(InvalidArgument) as caught:
        log.check_and_insert([(A, 9)], batch_id=batch_id)  # type: ignore[arg-type]
    assert caught.value.field == "batch_id"
    assert len(log) == 0
