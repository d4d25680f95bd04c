"""Input and output everywhere: hex from arguments, @files and stdin, errors that say what is
wrong, bounds, --version, python -m, --json on demo, replay gc, and explain through the
installed entry point (JSON fields, exit status, the malformed byte marked, no colour codes
when piped)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli import main
from sphinxamp.cli._common import parse_hex, read_hex, reset_inputs
from sphinxamp.cli._render import Style
from sphinxamp.errors import DecodeError, InvalidArgument
from sphinxamp.onion import MemoryReplayLog, SqliteReplayLog

ROOT = Path(__file__).resolve().parent.parent
# The CLI as this interpreter runs it, whatever the environment is called.
SPHINXAMP = [sys.executable, "-m", "sphinxamp"]
NODE0 = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"
ONION = json.loads((ROOT / "vectors" / "bolt04-onion.json").read_text())["cases"][0][
    "expect"]["onion"]


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SPHINXAMP, *args], input=stdin, capture_output=True,
                          text=True, check=False, env={**os.environ, **(env or {})})


# --- hex input -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0aff", "0x0aff", "0X0A FF", " 0a\nff\n", "0a\tf f"])
def test_hex_forms(text: str) -> None:
    assert parse_hex(text, "data") == b"\x0a\xff"


def test_odd_digit_count_is_not_called_non_hex() -> None:
    with pytest.raises(DecodeError, match="odd number of hex digits") as info:
        parse_hex("0abcd", "data")
    assert info.value.reason == "odd_length" and "not a hex digit" not in info.value.message


def test_bad_character_position_counts_as_typed() -> None:
    with pytest.raises(DecodeError) as info:
        parse_hex("0x 0a zz", "node_key")
    # "0x 0a zz": the z is the 7th character typed
    assert "at character 7" in info.value.message and info.value.reason == "not_hex"
    assert info.value.field == "node_key"


def test_at_file_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "payload.hex"
    path.write_text("0x0202\n03e8\n")
    assert read_hex(f"@{path}", "payload") == bytes.fromhex("020203e8")
    with pytest.raises(InvalidArgument, match="cannot be read"):
        read_hex(f"@{tmp_path / 'missing'}", "payload")
    reset_inputs()
    monkeypatch.setattr(sys, "stdin", io.StringIO("ab cd"))
    assert read_hex("-", "onion") == b"\xab\xcd"
    with pytest.raises(InvalidArgument, match="stdin was already read for onion"):
        read_hex("-", "node_key")
    reset_inputs()


def test_second_stdin_argument_is_refused_by_the_command() -> None:
    out = cli("onion", "peel", "-", "--node-key", "-", "--assoc-data", "00", "--json",
              stdin=ONION)
    assert out.returncode == 1
    err = json.loads(out.stdout)
    assert err["reason"] == "stdin_twice" and err["field"] == "node_key"


def test_hop_payload_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "p.hex").write_text("02023a98040205dc06080000000000000001\n")
    out = cli("onion", "build", "--session-key", "41" * 32, "--assoc-data", "42" * 32,
              "--hop", f"{NODE0}=@{tmp_path / 'p.hex'}", "--json")
    assert out.returncode == 0, out.stderr
    assert len(bytes.fromhex(json.loads(out.stdout)["onion"])) == 1366


# --- bounds, keys, field names -------------------------------------------------------------


@pytest.mark.parametrize("area", ["100000000000", str(2**70), "-1"])
def test_payload_area_is_bounded(area: str) -> None:
    for argv in (["onion", "build", "--assoc-data", "00", "--hop", f"{NODE0}=0000"],
                 ["onion", "peel", ONION, "--node-key", "41" * 32, "--assoc-data", "00"]):
        out = cli(*argv, f"--payload-area={area}")
        assert out.returncode == 2 and "payload area must be 0 to" in out.stderr
        assert "Traceback" not in out.stderr


def test_key_lengths_and_field_names() -> None:
    out = cli("onion", "peel", ONION, "--node-key", "41" * 31, "--assoc-data", "00", "--json")
    err = json.loads(out.stdout)
    assert out.returncode == 1 and err["field"] == "node_key"
    assert "must be 32 bytes" in err["message"]
    out = cli("onion", "build", "--session-key", "01", "--assoc-data", "00", "--hop",
              f"{NODE0}=0000", "--json")
    assert json.loads(out.stdout)["field"] == "session_key"
    out = cli("onion", "build", "--assoc-data", "00", "--hop", f"{NODE0}=000", "--json")
    assert json.loads(out.stdout)["field"] == "hops[0].payload"
    out = cli("onion", "build", "--assoc-data", "00", "--hop", "02ee=0000", "--json")
    assert json.loads(out.stdout)["field"] == "hops[0].pubkey"


def test_batch_id_needs_a_replay_db() -> None:
    out = cli("onion", "peel", ONION, "--node-key", "41" * 32, "--assoc-data", "42" * 32,
              "--batch-id", "100", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["field"] == "replay_db"


def test_build_draws_and_prints_a_session_key() -> None:
    one = cli("onion", "build", "--assoc-data", "00", "--hop", f"{NODE0}=0000", "--json")
    two = cli("onion", "build", "--assoc-data", "00", "--hop", f"{NODE0}=0000", "--json")
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert a["session_key"] != b["session_key"] and len(bytes.fromhex(a["session_key"])) == 32
    # the printed key rebuilds the same onion
    again = cli("onion", "build", "--session-key", a["session_key"], "--assoc-data", "00",
                "--hop", f"{NODE0}=0000", "--json")
    assert json.loads(again.stdout)["onion"] == a["onion"]
    human = cli("onion", "build", "--assoc-data", "00", "--hop", f"{NODE0}=0000")
    assert "session_key (drawn at random):" in human.stdout


# --- version, python -m, demo --json, replay gc --------------------------------------------


def test_version_and_python_m() -> None:
    import sphinxamp

    out = cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"sphinxamp {sphinxamp.__version__}"
    mod = subprocess.run([sys.executable, "-m", "sphinxamp", "--version"], capture_output=True,
                         text=True, check=False)
    assert mod.returncode == 0 and mod.stdout == out.stdout


def test_demo_json() -> None:
    out = cli("demo", "--json")
    assert out.returncode == 0
    pay = json.loads(out.stdout)["payment"]
    assert [h["role"] for h in pay["hops"]] == ["intermediate"] * 4 + ["final"]
    assert pay["hops"][-1]["next_onion_sha256"] is None


def test_replay_gc(tmp_path: Path) -> None:
    db = tmp_path / "replay.sqlite"
    with SqliteReplayLog(db) as log:
        log.check_and_insert([(bytes([1]) * 32, 100), (bytes([2]) * 32, 200)])
    out = cli("replay", "gc", "--db", str(db), "--height", "150", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"removed": 1, "remaining": 1, "height": 150}
    with SqliteReplayLog(db) as log:
        assert not log.contains(bytes([1]) * 32) and log.contains(bytes([2]) * 32)
    assert MemoryReplayLog is not None
    missing = cli("replay", "gc", "--db", str(tmp_path / "nope"), "--height", "1", "--json")
    assert missing.returncode == 1 and json.loads(missing.stdout)["field"] == "db"


def test_every_subcommand_takes_json() -> None:
    from sphinxamp.cli import build_parser

    def leaves(parser: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs:
            return [(path, parser)]
        return [leaf for name, child in subs[0].choices.items()
                for leaf in leaves(child, (*path, name))]

    missing = {" ".join(path) for path, parser in leaves(build_parser(), ())
               if "--json" not in parser._option_string_actions}
    assert not missing


# --- explain through the entry point ---------------------------------------------------------


def test_explain_json_on_the_vector_onion() -> None:
    out = cli("explain", ONION, "--node-key", "41" * 32, "--assoc-data", "42" * 32, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "onion" and doc["error"] is None and doc["length"] == 1366
    packet = doc["fields"][0]
    payloads = next(c for c in packet["children"] if c["name"] == "hop_payloads")
    payload = next(c for c in payloads["children"] if c["name"] == "payload")
    assert payload["hex"] == "02023a98040205dc06080000000000000001" and payload["decrypted"]


def test_explain_malformed_json_contract() -> None:
    # amt_to_forward, outgoing_cltv_value, then a record whose type 2 goes backwards at 7
    out = cli("explain", "020203e8 040190 0200", "--as", "payload", "--json")
    assert out.returncode == 1
    err = json.loads(out.stdout)["error"]
    assert err["offset"] == 7 and err["reason"] == "not_strictly_increasing"
    assert "strictly increase" in err["rule"] and err["section"].startswith("BOLT 1")


def test_explain_human_marks_the_byte_and_stays_plain_when_piped() -> None:
    out = cli("explain", "020203e8040190fd0002", "--as", "tlv")
    assert out.returncode == 1
    marked = [line for line in out.stdout.splitlines() if line.startswith("=>")]
    assert len(marked) == 1 and marked[0].split()[1] == "7"
    assert "error at offset 7 (byte fd)" in out.stdout
    assert "\x1b[" not in out.stdout


def test_colour_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    env = dict(os.environ)
    os.environ.pop("NO_COLOR", None)
    try:
        assert Style.for_stream(Tty()).enabled
        assert not Style.for_stream(Tty(), no_color=True).enabled
        assert not Style.for_stream(io.StringIO()).enabled
        os.environ["NO_COLOR"] = "1"
        assert not Style.for_stream(Tty()).enabled
    finally:
        os.environ.clear()
        os.environ.update(env)
    assert Style(True)("bad", "x") == "\x1b[1;31mx\x1b[0m" and Style(False)("bad", "x") == "x"


def test_main_in_process_reads_stdin_once(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):  # a second command in the same process may read stdin again
        monkeypatch.setattr(sys, "stdin", io.StringIO("0x02 02 03e8"))
        assert main(["explain", "-", "--as", "tlv", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["kind"] == "tlv"


def test_readme_debugging_examples_print_what_the_readme_shows() -> None:
    """Every self-contained `$ sphinxamp …` line of the README's debugging section prints, as
    its first lines, the lines the README shows after it (up to an elision `…`)."""
    import re
    import shlex

    text = (ROOT / "docs" / "debugging.md").read_text(encoding="utf-8")
    start = text.index("\n## Debugging on the wire\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    ran = 0
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            self_contained = not any(c in line[2:] for c in "$@|")
            if not (line.startswith("$ sphinxamp ") and self_contained):
                continue
            shown = []
            for after in lines[i + 1 :]:
                if after.startswith("$ ") or after.strip().startswith("…"):
                    break
                shown.append(after)
            out = cli(*shlex.split(line[2:])[1:])
            assert out.stdout.splitlines()[: len(shown)] == shown, line
            ran += 1
    assert ran >= 3


def test_explain_failure_with_secrets_through_the_entry_point() -> None:
    case = next(c for c in json.loads((ROOT / "vectors" / "bolt04-failure.json").read_text())[
        "cases"] if c["id"] == "return-five-hops")
    reason = next(h for h in case["expect"]["hops"] if h["hop_index"] == 0)["reason"]
    secrets = ",".join(case["shared_secrets"])
    out = cli("explain", reason, "--shared-secrets", secrets, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "failure" and doc["error"] is None
    assert any("erring hop: 4" in n for n in doc["notes"])
    bad = cli("explain", reason, "--shared-secrets", secrets + "00", "--json")
    err = json.loads(bad.stdout)
    assert bad.returncode == 1 and err["field"] == "shared_secrets[4]"
    assert "must be 32 bytes" in err["message"]


@pytest.mark.parametrize(("flag", "value"), [("--amount-msat", "-5"),
                                             ("--amount-msat", str(2**64)),
                                             ("--cltv-expiry", str(2**32)),
                                             ("--cltv", "-1")])
def test_htlc_numbers_are_wire_sized(flag: str, value: str) -> None:
    out = cli("onion", "peel", ONION, "--node-key", "41" * 32, "--assoc-data", "42" * 32,
              f"{flag}={value}", "--json")
    assert out.returncode == 2 and "must be 0 to 2^" in out.stderr
    assert "Traceback" not in out.stderr


def test_readme_debugging_python_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The library snippet of the debugging section prints what its comments say."""
    import re

    text = (ROOT / "docs" / "debugging.md").read_text(encoding="utf-8")
    start = text.index("\n## Debugging on the wire\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    claimed = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(")]
    assert printed == claimed
