"""`sphinxamp onion peel --replay-db FILE --cltv-expiry N`: a reused onion is refused (BOLT 4
› Onion Decryption: a node MUST detect a replayed onion), across separate invocations and processes,
and an onion that fails its checks is never recorded."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sphinxamp.cli import main

_VECTOR = json.loads(
    (Path(__file__).resolve().parent.parent / "vectors" / "bolt04-onion.json").read_text()
)
_HOP1 = next(c for c in _VECTOR["cases"] if c["id"] == "peel-hop-1")
_HOP2 = next(c for c in _VECTOR["cases"] if c["id"] == "peel-hop-2")


def peel(capsys: pytest.CaptureFixture[str], case: dict[str, str], db: Path,
         *extra: str) -> tuple[int, dict[str, object]]:
    status = main(["onion", "peel", case["onion"], "--node-key", case["node_key"],
                   "--assoc-data", case["associated_data"], "--replay-db", str(db),
                   "--json", *extra])
    return status, json.loads(capsys.readouterr().out)


def test_second_peel_of_the_same_onion_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    status, first = peel(capsys, _HOP1, db, "--cltv-expiry", "800000")
    assert status == 0 and first["next_onion"] == _HOP2["onion"]
    status, again = peel(capsys, _HOP1, db, "--cltv-expiry", "800000")
    assert status == 1
    assert again["error"] == "ReplayedOnion" and again["failure_code"] is not None


def test_a_different_onion_is_not_a_replay(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    assert peel(capsys, _HOP1, db, "--cltv-expiry", "800000")[0] == 0
    assert peel(capsys, _HOP2, db, "--cltv-expiry", "800000")[0] == 0


def test_an_onion_failing_its_hmac_is_not_recorded(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    wrong_ad = dict(_HOP1, associated_data="43" * 32)
    status, err = peel(capsys, wrong_ad, db, "--cltv-expiry", "800000")
    assert (status, err["failure_name"]) == (1, "invalid_onion_hmac")
    assert peel(capsys, _HOP1, db, "--cltv-expiry", "800000")[0] == 0


def test_replay_db_needs_the_cltv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, err = peel(capsys, _HOP1, tmp_path / "replay.db")
    assert status == 1 and err["field"] == "cltv_expiry"
    assert not (tmp_path / "replay.db").exists() or _rows(tmp_path / "replay.db") == 0


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)


def test_replay_is_caught_by_a_separate_process(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    cmd = [sys.executable, "-m", "sphinxamp.cli", "onion", "peel", _HOP1["onion"],
           "--node-key", _HOP1["node_key"], "--assoc-data", _HOP1["associated_data"],
           "--replay-db", str(db), "--cltv-expiry", "800000", "--json"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 1
    assert json.loads(second.stdout)["error"] == "ReplayedOnion"
