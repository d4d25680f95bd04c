"""The AMP and keysend commands around the receiver: the README's walkthrough as a shell
pipeline, `amp invoice`, `keysend pay`, and `amp receive` fed onions and `amp pay` output."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import public_key
from sphinxamp.cli import main

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ZED_KEY = "5a" * 32
ZED = public_key(bytes.fromhex(ZED_KEY)).hex()
BOB_KEY = "42" * 32
BOB = public_key(bytes.fromhex(BOB_KEY)).hex()


def run(argv: list[str], capsys: Any, stdin: str | None = None,
        monkeypatch: Any = None) -> tuple[int, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(argv)
    return status, capsys.readouterr().out


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_readme_walkthrough_runs_as_a_shell_pipeline(tmp_path: Path) -> None:
    """The README's `amp invoice add` → `amp pay` → `amp receive` block, run by bash with the
    installed entry point first on PATH: the set settles and the invoice shows it paid."""
    text = (ROOT / "docs" / "receiver.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", text, re.S)
                if "amp invoice add" in b and "| sphinxamp amp receive" in b]
    assert shutil.which("bash") is not None
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "TMPDIR": str(tmp_path)}
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], capture_output=True,
                          text=True, env=env, cwd=tmp_path, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = lines(proc.stdout)
    decisions = [o["decision"] for o in out if "decision" in o]
    assert decisions == ["accepted", "accepted", "settle"]
    settle = out[2]
    assert settle["amount_msat"] == 60_000_000 and len(settle["htlcs"]) == 3
    (invoice,) = out[3]["invoices"]
    assert invoice["payment_addr"] == settle["payment_addr"]
    assert (invoice["amount_paid_msat"], invoice["state"]) == (60_000_000, "open")


def test_invoice_add_list_cancel(tmp_path: Path, capsys: Any) -> None:
    db = str(tmp_path / "z.db")
    status, out = run(["amp", "invoice", "add", "--db", db, "--amount-msat", "5000",
                       "--expiry", "60", "--min-final-cltv", "40", "--now", "100", "--json"],
                      capsys)
    added = json.loads(out)
    assert status == 0 and len(bytes.fromhex(added["payment_addr"])) == 32
    assert (added["amount_msat"], added["expiry"], added["expires_at"], added["min_final_cltv"],
            added["state"], added["kind"]) == (5000, 60.0, 160.0, 40, "open", "amp")
    status, out = run(["amp", "invoice", "list", "--db", db, "--json"], capsys)
    assert json.loads(out)["invoices"] == [added]
    status, out = run(["amp", "invoice", "cancel", "--db", db, "--payment-addr",
                       added["payment_addr"], "--json"], capsys)
    canceled = json.loads(out)
    assert status == 0 and canceled["state"] == "canceled" and canceled["failed_htlcs"] == []
    status, out = run(["amp", "invoice", "list", "--db", db], capsys)
    assert "canceled" in out and added["payment_addr"] in out


def test_invoice_cancel_of_an_unknown_invoice_is_refused(tmp_path: Path, capsys: Any) -> None:
    db = str(tmp_path / "z.db")
    assert main(["amp", "invoice", "add", "--db", db, "--payment-addr", "11" * 32]) == 0
    capsys.readouterr()
    assert main(["amp", "invoice", "cancel", "--db", db,
                 "--payment-addr", "00" * 32, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "unknown_invoice"


@pytest.mark.parametrize("action", [["list"], ["cancel", "--payment-addr", "00" * 32]])
def test_invoice_list_and_cancel_do_not_create_a_database(tmp_path: Path, capsys: Any,
                                                          action: list[str]) -> None:
    typo = tmp_path / "typo.db"
    assert main(["amp", "invoice", action[0], "--db", str(typo), *action[1:], "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "not_found"
    assert not typo.exists()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    assert main(["amp", "invoice", "list", "--db", str(junk), "--json"]) == 1
    error = json.loads(capsys.readouterr().out)
    assert (error["error"], error["field"], error["reason"]) == (
        "InvalidArgument", "db", "not_a_database")


def test_a_database_of_another_schema_version_is_refused(tmp_path: Path, capsys: Any) -> None:
    import sqlite3
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE htlc (x)")  # the unversioned layout before invoices
    db.commit()
    db.close()
    assert main(["amp", "invoice", "list", "--db", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "schema_version"


def test_keysend_pay_piped_to_receive(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    status, out = run(["keysend", "pay", "--dest", ZED, "--amount-msat", "21000",
                       "--message", "thanks", "--height", "840000", "--seed", "01", "--json"],
                      capsys)
    pay = json.loads(out)
    preimage = bytes.fromhex(pay["preimage"])
    assert status == 0 and hashlib.sha256(preimage).hexdigest() == pay["payment_hash"]
    assert pay["htlc_amount_msat"] == 21000 and pay["final_cltv_expiry"] == 840080
    argv = ["amp", "receive", "--db", str(tmp_path / "z.db"), "--node-key", ZED_KEY]
    status, out = run(argv, capsys, json.dumps(pay), monkeypatch)
    (refused,) = lines(out)  # keysend is off by default, as in lnd
    assert refused["reason"] == "invoice_not_found" and refused["failure_code"] == 0x400F
    settled = [{
        "decision": "settle", "set_id": None, "payment_addr": None, "amount_msat": 21000,
        "htlcs": [{"htlc_id": pay["payment_hash"], "preimage": pay["preimage"]}]}]
    # The same HTLC id on the same database, keysend now on: the refusal reached no invoice,
    # so it is decided again (as lnd, which kept nothing of it) and settles.
    status, out = run([*argv, "--accept-keysend", "--profile", "lnd"], capsys,
                      json.dumps(pay), monkeypatch)
    assert status == 0 and lines(out) == settled
    fresh = ["amp", "receive", "--db", str(tmp_path / "k.db"), "--node-key", ZED_KEY,
             "--accept-keysend"]
    status, out = run(fresh, capsys, json.dumps(pay), monkeypatch)
    assert status == 0 and lines(out) == settled


def test_amp_pay_through_bob_is_refused_by_zed_and_peeled_by_bob(
        tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    """An onion for another node is no HTLC for this receiver: Bob's key peels it as a
    forward (unknown_next_peer: the receiver forwards nothing), Zed's key cannot (bad HMAC)."""
    status, out = run(["amp", "pay", "--dest", ZED, "--amount-msat", "3000", "--parts", "1",
                       "--route", BOB, "--height", "100", "--seed", "02", "--json"], capsys)
    pay = json.loads(out)
    for key, code in ((BOB_KEY, 0x400A), (ZED_KEY, 0xC005)):
        argv = ["amp", "receive", "--db", ":memory:", "--node-key", key, "--accept-amp"]
        status, out = run(argv, capsys, json.dumps(pay), monkeypatch)
        (fail,) = lines(out)
        assert status == 1 and fail["decision"] == "fail" and fail["failure_code"] == code
        assert fail["htlc_ids"] == [pay["shards"][0]["payment_hash"]]


def test_onion_lines_and_an_undecodable_onion(tmp_path: Path, capsys: Any,
                                              monkeypatch: Any) -> None:
    status, out = run(["amp", "pay", "--dest", ZED, "--amount-msat", "4000", "--parts", "2",
                       "--height", "500", "--final-cltv-delta", "40", "--seed", "03", "--json"],
                      capsys)
    pay = json.loads(out)
    htlcs = [{"htlc_id": i, "payment_hash": s["payment_hash"], "onion": s["onion"],
              "amount_msat": s["htlc_amount_msat"], "cltv_expiry": s["htlc_cltv_expiry"],
              "height": 500, "now": 10.0} for i, s in enumerate(pay["shards"])]
    onion = bytearray.fromhex(htlcs[0]["onion"])
    onion[-1] ^= 1  # the HMAC no longer matches
    broken = {**htlcs[0], "htlc_id": "x", "onion": onion.hex()}
    short = {**htlcs[0], "htlc_id": "y", "onion": "00" + "11" * 40}
    no_key = ["amp", "receive", "--db", ":memory:", "--accept-amp"]
    status, out = run(no_key, capsys, json.dumps(htlcs[0]), monkeypatch)
    assert status == 1 and lines(out)[0]["field"] == "node_key"
    argv = [*no_key, "--node-key", ZED_KEY, "--json"]
    stdin = "\n".join(json.dumps(h) for h in (htlcs[0], broken, short, htlcs[1]))
    status, out = run(argv, capsys, stdin, monkeypatch)
    first, bad, cut, settle = lines(out)
    assert first["decision"] == "accepted" and settle["decision"] == "settle"
    assert bad["decision"] == "fail" and bad["htlc_ids"] == ["x"] and bad["line"] == 2
    assert bad["failure_name"] == "invalid_onion_hmac"
    assert bad["failure_message"] == "update_fail_malformed_htlc"
    assert cut["decision"] == "fail" and cut["htlc_ids"] == ["y"] and cut["field"] == "onion"
    assert status == 1


def test_amp_pay_human_output_shows_the_onions(capsys: Any) -> None:
    status, out = run(["amp", "pay", "--dest", ZED, "--amount-msat", "4000", "--parts", "2",
                       "--seed", "04", "--json"], capsys)
    onions = [s["onion"] for s in json.loads(out)["shards"]]
    status, out = run(["amp", "pay", "--dest", ZED, "--amount-msat", "4000", "--parts", "2",
                       "--seed", "04"], capsys)
    assert status == 0 and all(f"onion {onion}" in out for onion in onions)


def test_receive_help_names_the_options(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        main(["amp", "receive", "--help"])
    text = capsys.readouterr().out
    for word in ("--node-key", "--profile", "bolt", "lnd", "--accept-amp", "--accept-keysend",
                 '"onion"', '"height"', "amp pay --json"):
        assert word in text


def test_demo_amp_story_as_data() -> None:
    """What `demo --json` shows of the AMP story: the payment as `amp pay --json` prints it and
    Zed's decisions as `amp receive` prints them; every preimage hashes to its shard's hash."""
    from sphinxamp.cli._demo_amp import amp_json

    story = amp_json()
    assert [d["decision"] for d in story["decisions"]] == ["accepted", "accepted", "settle"]
    hashes = {f"shard-{i}": s["payment_hash"]
              for i, s in enumerate(story["payment"]["shards"])}
    settle = story["decisions"][-1]
    assert settle["set_id"] == story["payment"]["set_id"]
    assert {h["htlc_id"]: hashlib.sha256(bytes.fromhex(h["preimage"])).hexdigest()
            for h in settle["htlcs"]} == hashes
