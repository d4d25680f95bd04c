"""Node logs through `explain_log` (sphinxamp._explain._log): the line reader, the prefix
recogniser and the hex-run finder, with the fixed test keys (the BOLT 4 vector's node key, one
shared secret).

Input: any bytes, decoded as UTF-8 (undecodable bytes replaced) and split into lines.
Invariants: nothing escapes (explain_log never raises for lines; a library error would be a
finding too, as no argument is bad); results come in line order, at most one per line, from
no line longer than MAX_LINE_LENGTH; each result's hex is in its line at its column, decodes
as a whole message of its type (an independent u16 read of the first two bytes), and its
explanation covers exactly those bytes; a line with no run of 4 or more hex digits yields
nothing; the JSON form serialises; deterministic; memory O(len).

Seeds: the lines of examples/node.log (tools/make_node_log.py), and a few prefixes alone.
"""

import json
import re
from typing import Any

import _common

from sphinxamp._explain._log import MAX_LINE_LENGTH, LogMessage, explain_log
from sphinxamp.messages._codec import LAYOUTS, decode_message

NODE_KEY = bytes([0x41]) * 32
SECRET = bytes([0x45]) * 32
# A tree holds a few fields per input byte, each with a slice of the input (see fuzz_explain).
PER_BYTE = 2048
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{4}")


def _read(lines: list[str]) -> list[LogMessage]:
    return list(explain_log(lines, node_key=NODE_KEY, shared_secrets=[SECRET]))


def _check(got: list[LogMessage], lines: list[str]) -> None:
    last = 0
    for m in got:
        assert m.line > last, "results out of line order, or two from one line"
        last = m.line
        line = lines[m.line - 1]
        assert len(line) <= MAX_LINE_LENGTH, "a result from a line past the bound"
        data = m.explanation.data
        assert line[m.column : m.column + 2 * len(data)].lower() == data.hex(), (
            "the message is not at its column")
        assert int.from_bytes(data[:2], "big") == m.message_type in LAYOUTS
        decode_message(data)  # a reported message must decode
        assert m.explanation.kind == "message"
        json.dumps(m.to_json())
    reported = {m.line for m in got}
    for number, line in enumerate(lines, start=1):
        if _HEX_RUN.search(line) is None:
            assert number not in reported, "a message from a line without hex"


def _key(got: list[LogMessage]) -> list[Any]:
    return [m.to_json() for m in got]


def test_one_input(data: bytes) -> None:
    lines = data.decode("utf-8", "replace").splitlines(keepends=True)
    first = _common.bounded(len(data), _read, lines, per_byte=PER_BYTE)
    assert first.error is None, f"explain_log raised {first.error!r}"
    second = _read(lines)
    assert _key(first.value) == _key(second), "explain_log is not deterministic"
    _check(first.value, lines)


if __name__ == "__main__":
    _common.main(test_one_input)
