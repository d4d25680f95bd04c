"""Talking to an adapter: a child process fed one JSON request per line.

Every request has a deadline. An adapter that exits, prints something that is not a JSON
answer to that request, or misses the deadline is reported as such and restarted for the next
request; after `max_failures` failures in a row it is given up on, so a run always ends.
Answers are read in bounded chunks: a line longer than `max_line` bytes is garbage, and the
reader stops there, so an adapter flooding its output cannot grow the runner's memory. An
answer repeating an id already answered is set aside as that id's duplicate (`duplicates`),
so the request waiting for its own answer is not blamed for it.

A command line that does not parse, or names no program, is refused before anything starts
(`parse_command`); an adapter that cannot start at all is for the caller to stop on
(`AdapterStartError`, raised by `handshake`), so a typo gives one message rather than an
adapter error per case.
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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sphinxamp.errors import AdapterStartError, InvalidArgument

TIMEOUT = "timeout"
CRASHED = "crashed"
GARBAGE = "garbage"
GAVE_UP = "gave_up"
MAX_LINE = 4 << 20  # bytes: a 32834-byte onion message in hex is 65 KB
_CHUNK = 1 << 16
_OVERLONG = b"<overlong>"  # queued (by identity) when a line passes the bound


def parse_command(command: str | Sequence[str], field: str = "--adapter") -> list[str]:
    """The adapter's argv, split like a shell would; `InvalidArgument` for a line that does not
    split (an unterminated quote) or that names no program."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InvalidArgument(f"{field}: the command line does not parse ({exc})",
                                  field=field, reason="unparsable") from None
    else:
        argv = list(command)
    if not argv or not argv[0]:
        raise InvalidArgument(f"{field}: no command given", field=field, reason="empty")
    return argv


@dataclass(frozen=True, slots=True)
class Reply:
    """An adapter's answer, or the problem that stood in for one (`problem`, `detail`)."""

    answer: dict[str, Any] | None
    problem: str | None = None
    detail: str = ""


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None], limit: int) -> None:
    """Lines of the adapter's output, read in chunks of at most 64 KiB; stops reading (and
    queues `_OVERLONG`) once an unfinished line is longer than `limit`."""
    buf = bytearray()
    read = getattr(stream, "read1", stream.read)
    while chunk := read(_CHUNK):
        start = len(buf)
        buf += chunk
        while (end := buf.find(b"\n", start)) >= 0:
            lines.put(bytes(buf[:end + 1]))
            del buf[:end + 1]
            start = 0
        if len(buf) > limit:
            lines.put(_OVERLONG)
            return
    if buf:
        lines.put(bytes(buf))
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
                 max_failures: int = 5, env: Mapping[str, str] | None = None,
                 max_line: int = MAX_LINE) -> None:
        self.argv = parse_command(command)
        self.timeout, self.max_failures, self.max_line = timeout, max_failures, max_line
        self.duplicates: list[tuple[object, str]] = []
        self._answered: set[str] = set()
        self.env = None if env is None else dict(env)
        self.failures = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: list[bytes] = []

    def _start(self) -> subprocess.Popen[bytes]:
        self._lines, self._stderr, self._answered = queue.Queue(), [], set()
        proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env, start_new_session=True)
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=_pump, args=(proc.stdout, self._lines, self.max_line),
                         daemon=True).start()
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
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return Reply(None, TIMEOUT, f"no answer within {self.timeout:g} s")
            if line is None:
                return self._crashed(proc)
            if line is _OVERLONG:
                return Reply(None, GARBAGE, f"an answer line longer than {self.max_line} "
                             "bytes (reading stopped there)")
            reply = _parse(line, req.get("id"))
            again = _answer_id(reply, line)
            if again is None or json.dumps(again) not in self._answered:
                break
            # An id answered before: that request's fault, not this one's.
            self.duplicates.append((again, f"answered twice: {line[:120]!r}"))
        if reply.answer is not None:
            self._answered.add(json.dumps(req.get("id")))
        return reply

    def _crashed(self, proc: subprocess.Popen[bytes]) -> Reply:
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail().strip().splitlines()
        last = f"; stderr: {tail[-1][:200]}" if tail else ""
        return Reply(None, CRASHED, f"adapter exited (status {code}){last}")

    def handshake(self) -> Reply:
        """The reply to `hello`, or `AdapterStartError` when the adapter cannot start, exits,
        hangs or answers garbage: every case after it would fail the same way."""
        reply = self.request({"id": "hello", "op": "hello"})
        if reply.answer is None:
            tail = self.stderr_tail().strip().splitlines()
            where = f" (stderr: {tail[-1][:200]})" if tail and "stderr:" not in reply.detail \
                else ""
            raise AdapterStartError(f"adapter {shlex.join(self.argv)!r} is not usable: "
                                    f"{reply.problem} at hello: {reply.detail}{where}",
                                    field="adapter", reason=f"hello_{reply.problem}")
        return reply

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


def _answer_id(reply: Reply, line: bytes) -> object:
    """The id a mismatched answer carries (None when it is not a mismatch)."""
    if reply.problem != GARBAGE or reply.answer is not None:
        return None
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        return None
    return answer.get("id") if isinstance(answer, dict) else None


def _parse(line: bytes, want_id: object) -> Reply:
    shown = line[:200].decode(errors="replace").rstrip()
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        return Reply(None, GARBAGE, f"not JSON: {shown!r}")
    if not isinstance(answer, dict):
        return Reply(None, GARBAGE, f"not a JSON object: {shown!r}")
    if answer.get("id") != want_id:
        return Reply(None, GARBAGE, f"answer for id {answer.get('id')!r}, asked {want_id!r}")
    return Reply(answer)
