"""Node logs: `explain_log` finds every line holding one of the five messages, with the
line's prefix (Core Lightning's and lnd's formats), and `sphinxamp explain --log` prints each
explained. The messages of examples/node.log are counted here by reading the file with a
pattern of its own, not with the code under test."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sphinxamp import encode_message, explain_log
from sphinxamp._explain._log import MAX_LINE_LENGTH, read_prefix
from sphinxamp.messages import UpdateFailMalformedHtlc, UpdateFulfillHtlc
from tests.strategies import pubkey_of
from tests.test_cli_reference import check

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "examples" / "node.log"
NODE_KEY = "41" * 32
PEER = pubkey_of(b"\x42" * 32).hex()
# The five message types, as the u16 that starts them (BOLT 2, BOLT 4).
TYPES = {"0080": "update_add_htlc", "0082": "update_fulfill_htlc", "0083": "update_fail_htlc",
         "0087": "update_fail_malformed_htlc", "0201": "onion_message"}
IO_LINE = re.compile(r"\[(IN|OUT)\] ([0-9a-f]+)$")


def messages_in_the_example() -> list[tuple[int, str, str]]:
    """(line, direction, message name) of each io line carrying one of the five types."""
    out = []
    for number, line in enumerate(LOG.read_text().splitlines(), start=1):
        match = IO_LINE.search(line)
        if match and match[2][:4] in TYPES:
            out.append((number, match[1].lower(), TYPES[match[2][:4]]))
    return out


def secrets() -> list[str]:
    doc = json.loads((ROOT / "vectors" / "bolt04-failure-attribution.json").read_text())
    found: list[str] = next(c for c in doc["cases"]
                            if c["id"] == "returning-errors")["shared_secrets"]
    return found


def test_every_message_of_the_example_log_is_found_with_its_prefix() -> None:
    want = messages_in_the_example()
    assert len(want) >= 6
    with LOG.open() as lines:
        got = list(explain_log(lines))
    assert [(m.line, m.prefix.direction, m.message_name) for m in got] == want
    assert all(m.prefix.format == "core-lightning" and m.prefix.peer_id == PEER for m in got)
    assert all(m.explanation.error is None for m in got)


def test_prefixes_of_both_formats_are_read() -> None:
    lines = [
        f"2026-12-07T10:00:01.100Z DEBUG   {PEER}-channeld-chan#1: peer_out WIRE_PING",
        f"2026-12-07 10:00:01.250 [DBG] PEER: Peer({PEER}@127.0.0.1:9735): Received x",
    ]
    cln, _ = read_prefix(lines[0])
    assert (cln.format, cln.timestamp, cln.level, cln.peer_id, cln.subsystem, cln.direction,
            cln.markers) == ("core-lightning", "2026-12-07T10:00:01.100Z", "DEBUG", PEER,
                             "channeld-chan#1", "out", ("peer_out",))
    lnd, _ = read_prefix(lines[1])
    assert (lnd.format, lnd.level, lnd.peer_id, lnd.subsystem, lnd.direction) == (
        "lnd", "DBG", PEER, "PEER", "in")


def fulfill() -> bytes:
    return encode_message(UpdateFulfillHtlc(b"\x01" * 32, 9, b"\x61" * 32))


def test_other_hex_and_over_long_lines_are_skipped() -> None:
    hex_message = fulfill().hex()
    lines = [f"node {PEER} payment_hash {'42' * 32}",  # hex, but no message
             "ping 00120004000000040000",  # a message of another type
             f"cut {hex_message[:-2]}",  # one of the five, cut short
             "x" * MAX_LINE_LENGTH + " " + hex_message,  # past the bound
             f"0x{hex_message.upper()}"]  # 0x and capitals are fine
    got = list(explain_log(lines))
    assert [(m.line, m.column, m.message_name) for m in got] == [(5, 2, "update_fulfill_htlc")]
    assert got[0].prefix.format is None


def line_for(style: int, data: bytes) -> str:
    hexed = data.hex()
    return (f"2026-12-07T10:00:00.000Z {PEER}-connectd: [IN] {hexed}",
            f"2026-12-07 10:00:00.000 [TRC] PEER: Peer({PEER}): readMessage {hexed}",
            hexed)[style]


MESSAGES = st.one_of(
    st.builds(lambda i, p: encode_message(UpdateFulfillHtlc(b"\x02" * 32, i, p)),
              st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32)),
    st.builds(lambda i, c: encode_message(UpdateFailMalformedHtlc(b"\x03" * 32, i, b"\0" * 32,
                                                                  0x8000 | c)),
              st.integers(0, 2**64 - 1), st.integers(0, 0x7FFF)))
NOISE = st.text(alphabet=st.characters(exclude_categories=["Cs"],
                                       exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e"
                                       "\x85\u2028\u2029"), max_size=80)


@given(st.lists(st.one_of(NOISE, st.tuples(st.integers(0, 2), MESSAGES)), max_size=12))
def test_the_messages_put_in_a_log_are_found_in_order(entries: list[object]) -> None:
    lines, want = [], []
    for number, entry in enumerate(entries, start=1):
        if isinstance(entry, tuple):
            style, data = entry
            lines.append(line_for(style, data) + "\n")
            want.append((number, data))
        else:
            assert isinstance(entry, str)
            lines.append(entry + "\n")
    got = [(m.line, m.explanation.data) for m in explain_log(lines)]
    assert got == want


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sphinxamp", "explain", *args],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)


def test_cli_explains_every_message_of_the_example_log() -> None:
    want = messages_in_the_example()
    done = run_cli("--log", str(LOG), "--json")
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(o["line"], o["direction"], o["message"]) for o in objects] == want
    for o in objects:
        check(o, "explain-log")
        check(o["explanation"], "explain")
        assert o["explanation"]["kind"] == "message"


def test_cli_log_from_stdin_in_text() -> None:
    done = subprocess.run([sys.executable, "-m", "sphinxamp", "explain", "--log", "-"],
                          input=LOG.read_text(), capture_output=True, text=True, check=False,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    heads = [line for line in done.stdout.splitlines() if line.startswith("line ")]
    assert len(heads) == len(messages_in_the_example())


def test_cli_log_with_keys_peels_and_decrypts() -> None:
    done = run_cli("--log", str(LOG), "--json", "--node-key", NODE_KEY,
                   "--shared-secrets", ",".join(secrets()))
    assert done.returncode == 0, done.stderr
    by_name: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        o = json.loads(line)
        by_name.setdefault(o["message"], o)
    for o in by_name.values():
        check(o["explanation"], "explain")
    add = by_name["update_add_htlc"]["explanation"]
    assert any(n.startswith("process_hop: intermediate hop") for n in add["notes"])
    fail = by_name["update_fail_htlc"]["explanation"]
    assert any(n.startswith("failure: hop 4 ") for n in fail["notes"])
    assert any(n.startswith("attribution_data verified") for n in fail["notes"])


def test_cli_log_refuses_options_each_message_gives() -> None:
    done = run_cli("--log", str(LOG), "--assoc-data", "42" * 32)
    assert done.returncode != 0 and "--assoc-data cannot go with --log" in done.stderr
    done = run_cli("00", "--log", str(LOG))
    assert done.returncode != 0 and "one of the two" in done.stderr


def test_cli_skips_an_over_long_line_and_reads_on(tmp_path: Path) -> None:
    message = fulfill().hex()
    log = tmp_path / "long.log"
    log.write_text("a" * (3 * MAX_LINE_LENGTH) + " " + message + "\n" + message + "\n")
    done = run_cli("--log", str(log), "--json")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["line"] for line in done.stdout.splitlines()] == [2]
