"""Node logs: every line holding a whole message of the five types `sphinxamp.messages`
reads (`update_add_htlc`, `update_fulfill_htlc`, `update_fail_htlc`,
`update_fail_malformed_htlc`, `onion_message`) in hex, explained, with what the line's prefix
says (timestamp, level, peer, subsystem, direction).

Prefixes recognised:
- Core Lightning (`lightningd/log.c`, `log_to_files`): `[PREFIX ]TIMESTAMP [LEVEL ]
  [NODEID-]SUBSYSTEM: TEXT`, the timestamp ISO 8601 with milliseconds and `Z`; at
  `--log-level=io` a wire message is `TIMESTAMP NODEID-SUBSYSTEM: [IN] HEX` or `[OUT] HEX`
  (no level word), and `peer_in WIRE_…` / `peer_out WIRE_…` debug lines name the messages
  without their bytes.
- lnd (`build/log`): `YYYY-MM-DD HH:MM:SS.mmm [LVL] SUBSYSTEM: TEXT`, the peer as
  `Peer(NODEID@ADDRESS)`, the direction from `Received` / `readMessage` (in) and `Sending` /
  `writeMessage` (out). lnd logs message summaries, not bytes: its lines yield a message only
  when one carries the hex of one.
- Anything else: `[IN]` / `[OUT]` anywhere give the direction; a bare hex line is accepted.

Only a hex run that decodes as one whole message of the five types yields a result (the
first on its line); other lines, and hex runs that are something else (node ids, hashes, a
message of another type, a message cut short), are skipped. Everything is bounded: a line
longer than `MAX_LINE_LENGTH` characters is skipped unread, and so is a hex run longer than
a message can be (`MAX_MESSAGE_HEX`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sphinxamp._explain import EXPLAIN_PROFILES, explain
from sphinxamp._explain._tree import Explanation
from sphinxamp.errors import InvalidArgument, WireError
from sphinxamp.messages._codec import LAYOUTS, MAX_MESSAGE_SIZE, decode_message
from sphinxamp.primitives._nodekey import NodeKey

# BOLT 8 › Lightning Message Specification: a message (u16 type included) fits a u16 length,
# 65535 bytes; two more bytes leave room for a log that keeps the length prefix in front.
MAX_MESSAGE_BYTES = MAX_MESSAGE_SIZE + 2
MAX_MESSAGE_HEX = 2 * MAX_MESSAGE_BYTES
# The longest message in hex plus a generous prefix.
MAX_LINE_LENGTH = MAX_MESSAGE_HEX + 4096

_CLN = re.compile(
    r"(?:(?P<log_prefix>\S{1,64}) )?"
    r"(?P<timestamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) "
    r"(?:(?P<level>IO|TRACE|DEBUG|INFO|UNUSUAL|\*\*BROKEN\*\*) +)?"
    r"(?:(?P<peer_id>0[23][0-9a-fA-F]{64})-)?"
    r"(?P<subsystem>[^\s:]{1,128}): ?")
_LND = re.compile(
    r"(?P<timestamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?) "
    r"\[(?P<level>TRC|DBG|INF|WRN|ERR|CRT)\] (?P<subsystem>[A-Za-z0-9_]{1,32}): ")
_LND_PEER = re.compile(r"Peer\((?P<peer_id>0[23][0-9a-fA-F]{64})(?:@[^)\s]{0,256})?\)")
_WORDS = re.compile(r"\[IN\]|\[OUT\]|\b(?:peer_in|peer_out|Received|readMessage|Sending|"
                    r"writeMessage)\b")
_DIRECTIONS = {"[IN]": "in", "[OUT]": "out", "peer_in": "in", "peer_out": "out",
               "Received": "in", "readMessage": "in", "Sending": "out", "writeMessage": "out"}
# A hex run standing alone (not inside a longer word), with or without 0x.
_HEX = re.compile(r"(?<![0-9A-Za-z])(?:0x)?([0-9A-Fa-f]{4,})(?![0-9A-Za-z])")


@dataclass(frozen=True, slots=True)
class LogPrefix:
    """What a line says besides its message: the format recognised ("core-lightning",
    "lnd", or None), and the parts it holds (None where absent). `markers` are the words
    that gave the direction, as written ("[IN]", "peer_out", "Received", …)."""

    format: str | None = None
    timestamp: str | None = None
    level: str | None = None
    peer_id: str | None = None
    subsystem: str | None = None
    direction: str | None = None
    markers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "timestamp": self.timestamp, "level": self.level,
                "peer_id": self.peer_id, "subsystem": self.subsystem,
                "direction": self.direction, "markers": list(self.markers)}


@dataclass(frozen=True, slots=True)
class LogMessage:
    """One message found in a log: its line (1 = first), the column where its hex starts
    (0-based), the prefix, the message type and name, and its explanation."""

    line: int
    column: int
    prefix: LogPrefix
    message_type: int
    message_name: str
    explanation: Explanation

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, **self.prefix.to_json(),
                "message_type": self.message_type, "message": self.message_name,
                "explanation": self.explanation.to_json()}


def read_prefix(line: str) -> tuple[LogPrefix, int]:
    """The line's prefix and where the rest starts (0 when no format is recognised)."""
    peer = None
    match = _CLN.match(line)
    fmt = "core-lightning"
    if match is None:
        match, fmt = _LND.match(line), "lnd"
    start = 0 if match is None else match.end()
    if fmt == "lnd" and match is not None:
        found = _LND_PEER.search(line, start)
        peer = None if found is None else found["peer_id"]
    elif match is not None:
        peer = match["peer_id"]
    markers = tuple(m[0] for m in _WORDS.finditer(line, start))
    directions = {_DIRECTIONS[m] for m in markers}
    return LogPrefix(
        format=None if match is None else fmt,
        timestamp=None if match is None else match["timestamp"],
        level=None if match is None else match["level"],
        peer_id=peer.lower() if peer else None,
        subsystem=None if match is None else match["subsystem"],
        direction=directions.pop() if len(directions) == 1 else None,
        markers=markers), start


def find_message(line: str, start: int = 0) -> tuple[int, bytes] | None:
    """The first hex run from `start` that decodes as a whole message of the five types:
    (its column, its bytes)."""
    for match in _HEX.finditer(line, start):
        text = match[1]
        if len(text) % 2 or len(text) > MAX_MESSAGE_HEX:
            continue
        if int(text[:4], 16) not in LAYOUTS:
            continue
        data = bytes.fromhex(text)
        try:
            decode_message(data)
        except WireError:
            continue
        return match.start(1), data
    return None


def _check_keys(node_key: bytes | NodeKey | None, shared_secrets: Sequence[bytes]) -> None:
    if isinstance(node_key, bytes | bytearray) and len(node_key) != 32:
        raise InvalidArgument(f"node_key must be 32 bytes, got {len(node_key)}",
                              field="node_key", reason="wrong_length")
    for i, secret in enumerate(shared_secrets):
        if len(secret) != 32:
            raise InvalidArgument(f"shared_secrets[{i}] must be 32 bytes, got {len(secret)}",
                                  field=f"shared_secrets[{i}]", reason="wrong_length")


def explain_log(lines: Iterable[str], *, node_key: bytes | NodeKey | None = None,
                shared_secrets: Sequence[bytes] = (), profile: str = "bolt"
                ) -> Iterator[LogMessage]:
    """Each line of `lines` holding a message (see the module text), in order, explained
    with the keys given (`explain(..., "message")`), its hop payloads read under `profile`.
    Reads nothing but `lines`: the caller opens the file. A bad key or profile raises
    `InvalidArgument` here, before any line is read."""
    _check_keys(node_key, shared_secrets)
    if profile not in EXPLAIN_PROFILES:
        raise InvalidArgument(f"unknown profile {profile!r}; one of "
                              f"{', '.join(EXPLAIN_PROFILES)}", field="profile",
                              reason="unknown_profile")
    secrets = tuple(bytes(s) for s in shared_secrets)
    return _messages(lines, node_key, secrets, profile)


def _messages(lines: Iterable[str], node_key: bytes | NodeKey | None,
              secrets: tuple[bytes, ...], profile: str) -> Iterator[LogMessage]:
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_LENGTH:
            continue
        line = line.rstrip("\r\n")
        prefix, start = read_prefix(line)
        found = find_message(line, start)
        if found is None:
            continue
        column, data = found
        mtype = int.from_bytes(data[:2], "big")
        yield LogMessage(number, column, prefix, mtype, LAYOUTS[mtype].cls.name,
                         explain(data, "message", node_key=node_key, shared_secrets=secrets,
                                 profile=profile))


__all__ = ["MAX_LINE_LENGTH", "MAX_MESSAGE_HEX", "LogMessage", "LogPrefix", "explain_log",
           "find_message", "read_prefix"]
