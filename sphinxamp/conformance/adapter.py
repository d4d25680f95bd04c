"""Talking to an adapter: a child process fed one JSON request per line.

Every request has a deadline. An adapter that exits, prints something that is not a JSON
answer to that request, or misses the deadline is reported as such and restarted for the next
request; after `max_failures` failures in a row it is given up on, so a run always ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

TIMEOUT = "timeout"
CRASHED = "crashed"
GARBAGE = "garbage"
GAVE_UP = "gave_up"


@dataclass(frozen=True, slots=True)
class Reply:
    """An adapter's answer, or the problem that stood in for one (`problem`, `detail`)."""

    answer: dict[str, Any] | None
    problem: str | None = None
    detail: str = ""


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    for line in iter(stream.readline, b""):
        lines.put(line)
    lines.put(None)


def _send(proc: subprocess.Popen[bytes], line: bytes) -> None:
    """A failed write shows as the adapter's end of output (or its silence): not here."""
    with contextlib.suppress(OSError, ValueError):
        assert proc.stdin is not None
        proc.stdin.write(line)
        proc.stdin.flush()


def _tail(stream: IO[bytes], keep: list[bytes]) -> None:
    for chunk in iter(lambda: stream.read(4096), b""):
        keep.append(chunk)
        del keep[:-4]


class AdapterProcess:
    """One adapter command, started on first use and kept running between requests."""

    def __init__(self, command: str | Sequence[str], *, timeout: float = 10.0,
                 max_failures: int = 5, env: Mapping[str, str] | None = None) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        self.timeout, self.max_failures = timeout, max_failures
        self.env = None if env is None else dict(env)
        self.failures = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: list[bytes] = []

    def _start(self) -> subprocess.Popen[bytes]:
        self._lines, self._stderr = queue.Queue(), []
        proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env, start_new_session=True)
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=_pump, args=(proc.stdout, self._lines), daemon=True).start()
        threading.Thread(target=_tail, args=(proc.stderr, self._stderr), daemon=True).start()
        self._proc = proc
        return proc

    def stderr_tail(self) -> str:
        return b"".join(self._stderr)[-600:].decode(errors="replace")

    def request(self, req: Mapping[str, Any]) -> Reply:
        if self.failures >= self.max_failures:
            return Reply(None, GAVE_UP, f"adapter failed {self.failures} times in a row")
        reply = self._exchange(req)
        if reply.problem is None:
            self.failures = 0
        else:
            self.failures += 1
            self.close()  # a fresh process for the next request: the stream may be out of step
        return reply

    def _exchange(self, req: Mapping[str, Any]) -> Reply:
        try:
            proc = self._proc if self._proc and self._proc.poll() is None else self._start()
        except OSError as exc:
            return Reply(None, CRASHED, f"cannot start {self.argv[0]!r}: {exc}")
        # Written from a thread: an adapter that stops reading would block a large write
        # forever, and the deadline below must hold for that too.
        threading.Thread(target=_send, args=(proc, json.dumps(req).encode() + b"\n"),
                         daemon=True).start()
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            return Reply(None, TIMEOUT, f"no answer within {self.timeout:g} s")
        if line is None:
            return self._crashed(proc)
        return _parse(line, req.get("id"))

    def _crashed(self, proc: subprocess.Popen[bytes]) -> Reply:
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail().strip().splitlines()
        last = f"; stderr: {tail[-1][:200]}" if tail else ""
        return Reply(None, CRASHED, f"adapter exited (status {code}){last}")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        proc.wait()

    def __enter__(self) -> AdapterProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse(line: bytes, want_id: object) -> Reply:
    shown = line[:200].decode(errors="replace").rstrip()
    try:
        answer = json.loads(line)
    except ValueError:
        return Reply(None, GARBAGE, f"not JSON: {shown!r}")
    if not isinstance(answer, dict):
        return Reply(None, GARBAGE, f"not a JSON object: {shown!r}")
    if answer.get("id") != want_id:
        return Reply(None, GARBAGE, f"answer for id {answer.get('id')!r}, asked {want_id!r}")
    return Reply(answer)
