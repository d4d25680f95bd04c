"""A node's loop over HTLC batches against an SQLite replay log, for the SIGKILL test.

    python replay_batch_worker.py DB FIRST LAST [--no-ids] [--crash-after N]

Commits batches FIRST..LAST-1 (8 distinct onions each, batch id = its number) and prints one
JSON line per batch once committed: {"batch": N, "replays": [i, ...]}. A kill between the
commit and the print leaves a batch committed whose answer the caller never saw; --crash-after
N makes exactly that happen: the process SIGKILLs itself right after committing batch N.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys

from sphinxamp.onion import SqliteReplayLog

PER_BATCH = 8


def secrets_of(batch: int) -> list[bytes]:
    return [hashlib.sha256(b"onion %d %d" % (batch, j)).digest() for j in range(PER_BATCH)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("first", type=int)
    parser.add_argument("last", type=int)
    parser.add_argument("--no-ids", action="store_true")
    parser.add_argument("--crash-after", type=int)
    args = parser.parse_args()
    with SqliteReplayLog(args.db) as log:
        for n in range(args.first, args.last):
            bid = None if args.no_ids else n.to_bytes(8, "big")
            replays = log.check_and_insert([(s, 1000) for s in secrets_of(n)], batch_id=bid)
            if n == args.crash_after:
                os.kill(os.getpid(), signal.SIGKILL)
            sys.stdout.write(json.dumps({"batch": n, "replays": sorted(replays)}) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
