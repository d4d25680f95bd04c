"""A receiver process for the crash test: `sphinxamp amp receive`'s loop on an SQLite file.

usage: receiver_worker.py DB [--invoice HEX ...]
                          [--crash-at N --crash-when before-commit|after-commit]

Reads HTLC and tick lines on stdin (the CLI's JSON-lines format) and writes each decision on
stdout as soon as it is durable, after a first `{"ready": true}` line. Each --invoice is the
payment_addr of a reusable AMP invoice (value 0) added at the start unless the database has
it. Keysend is accepted, spontaneous AMP is not (lnd's defaults but accept-keysend). With
--crash-at the
process SIGKILLs itself inside its N-th decision: `before-commit` once the decision's rows
are written but not committed, `after-commit` once committed but before it is printed; the
crash test also kills it from outside at arbitrary moments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run from a checkout: test the working tree

from sphinxamp import Receiver  # noqa: E402
from sphinxamp.cli._amp_receive import serve  # noqa: E402
from sphinxamp.receiver import Change, SqliteStore  # noqa: E402

HOLD_SECONDS = 120.0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class CrashingStore:
    """An SqliteStore that kills its process at a chosen point of its N-th decision."""

    def __init__(self, inner: SqliteStore, crash_at: int, when: str) -> None:
        self.inner, self.crash_at, self.when, self.applied = inner, crash_at, when, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.inner.transaction():
            yield
        if self.when == "after-commit" and self.applied >= self.crash_at:
            _die()

    def apply(self, change: Change) -> None:
        self.inner.apply(change)
        self.applied += 1
        if self.when == "before-commit" and self.applied >= self.crash_at:
            _die()


def _write(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--invoice", action="append", default=[])
    parser.add_argument("--crash-at", type=int)
    parser.add_argument("--crash-when", choices=("before-commit", "after-commit"))
    args = parser.parse_args()
    sqlite = SqliteStore(args.db)
    setup = Receiver(sqlite)
    for addr in map(bytes.fromhex, args.invoice):
        if setup.invoice(addr) is None:
            setup.add_invoice(now=0.0, payment_addr=addr)
    store: Any = sqlite
    if args.crash_at is not None:
        store = CrashingStore(sqlite, args.crash_at, args.crash_when)
    receiver = Receiver(store, hold_seconds=HOLD_SECONDS, accept_keysend=True)
    _write({"ready": True})
    errors = serve(receiver, sys.stdin, _write, lambda: 0.0)
    sqlite.close()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
