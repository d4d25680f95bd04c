"""A separate process writing to an SQLite replay log, for the restart and concurrency tests.

    python replay_worker.py DB SECRETS_FILE CLTV BATCH [--go FILE] [--hang]

SECRETS_FILE holds one hex shared secret per line. The worker waits for FILE to exist (so two
workers start together), records the secrets in batches of BATCH, prints one JSON line
{"replayed": [hex, ...]} and, with --hang, sleeps until it is killed, its connection still open.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from sphinxamp.onion import SqliteReplayLog


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("secrets")
    parser.add_argument("cltv", type=int)
    parser.add_argument("batch", type=int)
    parser.add_argument("--go")
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    with open(args.secrets) as f:
        secrets = [bytes.fromhex(line.strip()) for line in f if line.strip()]
    log = SqliteReplayLog(args.db)
    if args.go:
        while not os.path.exists(args.go):
            time.sleep(0.001)
    replayed = []
    for lo in range(0, len(secrets), args.batch):
        chunk = secrets[lo : lo + args.batch]
        for i in log.check_and_insert([(s, args.cltv) for s in chunk]):
            replayed.append(chunk[i].hex())
    sys.stdout.write(json.dumps({"replayed": replayed}) + "\n")
    sys.stdout.flush()
    if args.hang:
        while True:
            time.sleep(60)
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
