"""What the runner reads of a fuzzing process's log, and how it decides that a process did
not fuzz: it died, ended before its budget, had to be stopped, or executed no input."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_STAT = re.compile(r"^#(\d+)\b")
_FIELDS = {"cov": re.compile(r"\bcov: (\d+)"), "ft": re.compile(r"\bft: (\d+)"),
           "corp": re.compile(r"\bcorp: (\d+)"), "rate": re.compile(r"exec/s:? (\d+)")}


@dataclass
class JobLog:
    """One libFuzzer process's log, read incrementally, with its latest status line."""

    path: Path
    offset: int = 0
    execs: int = 0
    cov: int = 0
    corp: int = 0
    rate: int = 0

    def poll(self) -> None:
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            match = _STAT.match(line)
            if match:
                self.execs = max(self.execs, int(match.group(1)))
                found = {k: int(m.group(1)) for k, rx in _FIELDS.items() if (m := rx.search(line))}
                self.cov = found.get("cov", self.cov)
                self.corp = found.get("corp", self.corp)
                self.rate = found.get("rate", self.rate)


@dataclass
class Ending:
    """How a fuzzing process ended: its status, whether the runner had to stop it, how long
    it ran of its budget, and whether it left findings (which explain an early, failing end)."""

    status: int
    killed: bool
    seconds: float
    budget: int
    found: bool


def worker_problems(end: Ending, logs: list[JobLog]) -> list[str]:
    """Why a target's fuzzing cannot be trusted to have run, each with the log to read; empty
    when it ran its budget and every worker executed inputs."""
    shown = logs[0].path if logs else "(no log)"
    out = []
    if end.killed:
        out.append(f"did not stop within its {end.budget} s budget plus 60 s and was ended; "
                   f"log {shown}")
    elif end.status != 0 and not end.found:
        out.append(f"exited with status {end.status}{_last_line(logs)}; log {shown}")
    elif end.status == 0 and not end.found and end.seconds < end.budget:
        out.append(f"ended after {end.seconds:.1f} s of its {end.budget} s budget"
                   f"{_last_line(logs)}; log {shown}")
    for job in logs:
        job.poll()
        if job.execs == 0 and not end.found:
            out.append(f"executed no input{_last_line([job])}; log {job.path}")
    return out


def _last_line(logs: list[JobLog]) -> str:
    """The log's last line, which names the error when a process died (a traceback's end)."""
    for job in logs:
        try:
            lines = job.path.read_text(errors="replace").strip().splitlines()
        except OSError:
            continue
        if lines:
            return f" ({lines[-1][:200]})"
    return ""


MAX_SECONDS = 7 * 24 * 3600
MAX_JOBS = 256


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a decimal integer from `low` to `high` (else a usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value

    parse.__name__ = "int"
    return parse
