"""`sphinxamp explain --log FILE`: the messages of a node log, each explained (the library's
`explain_log` finds and explains them; this module opens the file, bounds what it reads per
line, and prints).

A line is read at most `MAX_LOG_LINE_LENGTH` + 1 characters at a time: a longer line is passed on
cut (the library skips it as over-long) and the rest of it is read and dropped in pieces, so
a log of one endless line costs no more memory than one bounded line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TextIO

from sphinxamp import explain_log
from sphinxamp.cli import _render as render
from sphinxamp.debug import MAX_LOG_LINE_LENGTH, LogMessage
from sphinxamp.errors import InvalidArgument


def bounded_lines(stream: TextIO) -> Iterator[str]:
    """The stream's lines, each at most MAX_LOG_LINE_LENGTH + 1 characters (a longer one cut
    there, which marks it over-long; its rest is skipped)."""
    while True:
        line = stream.readline(MAX_LOG_LINE_LENGTH + 1)
        if not line:
            return
        yield line
        while len(line) > MAX_LOG_LINE_LENGTH and not line.endswith("\n"):
            line = stream.readline(MAX_LOG_LINE_LENGTH + 1)
            if not line:
                return


def _open(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidArgument(f"log: file {path!r} cannot be read ({exc.strerror})",
                              field="log", reason="unreadable_file") from None


def _heading(m: LogMessage) -> str:
    p = m.prefix
    parts = [f"line {m.line}: {m.message_name}"]
    if p.direction:
        parts.append({"in": "received", "out": "sent"}[p.direction])
    if p.peer_id:
        parts.append(f"peer {p.peer_id}")
    if p.timestamp:
        parts.append(f"at {p.timestamp}")
    if p.format:
        parts.append(f"({p.format} log)")
    return " ".join(parts)


def run_log(args: argparse.Namespace, node_key: bytes | None, secrets: list[bytes]) -> int:
    """Print every message of the log; exit 1 when one of them does not parse."""
    given = [flag for flag, value in (("--as", args.kind != "auto"),
                                      ("--assoc-data", args.assoc_data is not None),
                                      ("--path-key", args.path_key is not None),
                                      ("--payload-area", args.payload_area is not None))
             if value]
    if given:
        # Each message gives its own kind, payment hash, path key and onion size.
        raise InvalidArgument(f"{', '.join(given)} cannot go with --log: each message gives "
                              "its own", field="log", reason="conflicting_options")
    stream = _open(args.log)
    status = 0
    style = render.Style.for_stream(sys.stdout, args.no_color)
    try:
        for m in explain_log(bounded_lines(stream), node_key=node_key, shared_secrets=secrets,
                             profile=args.profile):
            if m.explanation.error is not None:
                status = 1
            if args.json:
                sys.stdout.write(json.dumps(m.to_json(), separators=(", ", ": ")) + "\n")
            else:
                lines = [style("head", _heading(m)),
                         *render.explanation_lines(m.explanation, style), ""]
                sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
    finally:
        if stream is not sys.stdin:
            stream.close()
    return status


__all__ = ["bounded_lines", "run_log"]
