"""`sphinxamp amp receive`: the JSON-lines protocol over a database, in process and as a
process (the workload helpers are the crash test's)."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import HopPayload
from sphinxamp.cli import main
from tests.test_receiver_crash import CLTV, WORKER, Workload, _add_set, _line, sha256


def amp_receive(argv: list[str], lines: list[Any], monkeypatch: Any, capsys: Any,
                ) -> tuple[int, list[dict[str, Any]]]:
    """Run the command with `lines` (objects are written as JSON) on stdin, spontaneous AMP
    and keysend accepted."""
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    status = main(["amp", "receive", "--accept-amp", "--accept-keysend", *argv])
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines()]


def two_shards(rng: random.Random, **fields: Any) -> tuple[Workload, list[dict[str, Any]]]:
    work = Workload()
    _add_set(work, rng, "valid", rng.randbytes(32))
    while len(work.lines) != 2:  # a set of exactly two shards
        work = Workload()
        _add_set(work, rng, "valid", rng.randbytes(32))
    lines = [{**line, "now": 100.0 + i, **fields} for i, line in enumerate(work.lines.values())]
    return work, lines


def test_cli_settles_a_set_and_a_keysend(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    work, (first, second) = two_shards(random.Random(1))
    preimage = b"\x07" * 32
    keysend = _line("ks", sha256(preimage), 1000, HopPayload(1000, CLTV,
                                                             keysend_preimage=preimage))
    status, out = amp_receive(["--db", str(tmp_path / "r.db")],
                              [first, "", second, keysend], monkeypatch, capsys)
    assert status == 0
    set_id = next(iter(work.sets))
    assert out[0] == {"decision": "accepted", "htlc_id": first["htlc_id"], "set_id": set_id,
                      "held_msat": first["amount_msat"],
                      "total_msat": first["amount_msat"] + second["amount_msat"],
                      "expires_at": 220.0}
    assert out[1]["decision"] == "settle" and out[1]["set_id"] == set_id
    assert out[1]["amount_msat"] == out[0]["total_msat"]
    assert {h["htlc_id"]: bytes.fromhex(h["preimage"]) for h in out[1]["htlcs"]} == {
        h: work.preimages[h] for h in work.sets[set_id]}
    assert out[2] == {"decision": "settle", "set_id": None, "payment_addr": None,
                      "amount_msat": 1000, "htlcs": [{"htlc_id": "ks",
                                                      "preimage": preimage.hex()}]}


def test_cli_ticks_fire_timeouts(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    work, (first, _) = two_shards(random.Random(2), height=799_000)
    ticks = [{"tick": 109}, {"tick": 110.0}, {"tick": 500}]
    status, out = amp_receive(["--db", str(tmp_path / "r.db"), "--hold", "10"],
                              [first, *ticks], monkeypatch, capsys)
    assert status == 0 and out[0]["expires_at"] == 110.0
    assert out[1:] == [{"decision": "fail", "htlc_ids": [first["htlc_id"]], "failure_code": 23,
                        "failure_name": "mpp_timeout", "reason": "mpp_timeout",
                        "lnd_result": "ResultMppTimeout", "set_id": next(iter(work.sets)),
                        "htlcs": [{"htlc_id": first["htlc_id"], "failure_message": "0017"}]}]


def test_cli_resumes_from_the_same_database(tmp_path: Path, monkeypatch: Any,
                                            capsys: Any) -> None:
    _, (first, second) = two_shards(random.Random(3))
    db = ["--db", str(tmp_path / "r.db"), "--synchronous", "normal"]
    _, (accepted,) = amp_receive(db, [first], monkeypatch, capsys)
    status, out = amp_receive(db, [{**first, "now": 150.0}, second], monkeypatch, capsys)
    assert status == 0 and out[0] == accepted and out[1]["decision"] == "settle"


def test_cli_reads_the_clock_when_no_time_is_given(monkeypatch: Any, capsys: Any) -> None:
    _, (first, _) = two_shards(random.Random(4))
    monkeypatch.setattr(time, "time", lambda: 5000.0)  # the clock amp receive reads
    line = {k: v for k, v in first.items() if k != "now"}
    status, out = amp_receive(["--db", ":memory:"], [line, {"tick": None}, {"tick": 5120}],
                              monkeypatch, capsys)
    assert status == 0 and out[0]["expires_at"] == 5120.0
    assert [o["decision"] for o in out] == ["accepted", "fail"]


def test_cli_refuses_bad_lines_and_goes_on(tmp_path: Path, monkeypatch: Any,
                                           capsys: Any) -> None:
    _, (first, _) = two_shards(random.Random(5))
    bad: list[Any] = [
        ("not json", "line", None), ([1, 2], "line", None),
        ({**first, "htlc_id": True}, "htlc_id", None),
        ({**first, "htlc_id": -1}, "htlc_id", None),
        ({**first, "payment_hash": "ab" * 31}, "payment_hash", first["htlc_id"]),
        ({**first, "amount_msat": -1}, "amount_msat", first["htlc_id"]),
        ({**first, "cltv_expiry": 2**32}, "cltv_expiry", first["htlc_id"]),
        ({**first, "height": "1"}, "height", first["htlc_id"]),
        ({k: v for k, v in first.items() if k != "height"}, "height", first["htlc_id"]),
        ({**first, "now": "soon"}, "now", first["htlc_id"]),
        ('{"tick": NaN}', "tick", None),
        ({**first, "payload": "zz"}, "payload", first["htlc_id"]),
    ]
    lines = [line for line, _, _ in bad]
    status, out = amp_receive(["--db", str(tmp_path / "r.db")], [*lines, first],
                              monkeypatch, capsys)
    assert status == 1
    for number, ((_, name, htlc_id), got) in enumerate(zip(bad, out, strict=False), 1):
        assert got["error"] == "DecodeError" and got["field"] == name and got["reason"]
        assert got["line"] == number and got.get("htlc_id") == htlc_id
        assert got["decision"] == "fail"
        assert got["htlc_ids"] == ([] if htlc_id is None else [htlc_id])
    assert out[len(bad)]["decision"] == "accepted"


def test_cli_reports_an_undecodable_payload_as_invalid_onion_payload(
        tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    _, (first, _) = two_shards(random.Random(6))
    no_cltv = HopPayload(amt_to_forward=1).encode().hex()  # a final payload needs type 4
    status, out = amp_receive(["--db", str(tmp_path / "r.db")],
                              [{**first, "payload": no_cltv}], monkeypatch, capsys)
    assert status == 1
    assert out[0]["failure_code"] == 0x4016 and out[0]["tlv_type"] == 4
    assert out[0]["htlc_id"] == first["htlc_id"] and out[0]["line"] == 1
    assert out[0]["decision"] == "fail" and out[0]["htlc_ids"] == [first["htlc_id"]]


def test_cli_help_documents_the_line_format(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["amp", "receive", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in ("--db", "--hold", "--synchronous", '"payment_hash"', '"tick"', '"expires_at"',
                 "mpp_timeout", "resend"):
        assert word in text


def test_cli_refuses_a_database_it_cannot_open(tmp_path: Path, monkeypatch: Any,
                                               capsys: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["amp", "receive", "--db", str(tmp_path)]) == 1  # a directory
    assert "cannot open the database" in capsys.readouterr().err


def test_cli_as_a_process(tmp_path: Path) -> None:
    _, (first, second) = two_shards(random.Random(7))
    proc = subprocess.run(
        [sys.executable, "-m", "sphinxamp.cli", "amp", "receive", "--db", str(tmp_path / "d"),
         "--accept-amp"],
        input=f"{json.dumps(first)}\n{json.dumps(second)}\n", capture_output=True, text=True,
        cwd=WORKER.parent.parent, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["decision"] for x in proc.stdout.splitlines()] == ["accepted",
                                                                             "settle"]
