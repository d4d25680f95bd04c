"""The conformance kit from the command line: conformance adapter|run|export, fuzz corpus,
vectors check --bolt, and the differential fuzzing harness (replayed, under atheris, and
through fuzz/run --adapter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sphinxamp.cli import main
from sphinxamp.conformance.corpus import corpus_inputs
from sphinxamp.errors import DecodeError, InvalidOnionHmac
from sphinxamp.onion import peel_onion
from tests.test_conformance import published_copy, rebuilt_onion_test

ROOT = Path(__file__).resolve().parents[1]
# The sphinxamp of the interpreter running the tests, not a path in a checkout.
SPHINXAMP = [sys.executable, "-m", "sphinxamp"]
REFERENCE = f"{sys.executable} -m sphinxamp.conformance"
PYLN = f"{sys.executable} {ROOT / 'examples' / 'adapters' / 'pyln_proto_adapter.py'}"
PYLN_DEVIATIONS = ROOT / "examples" / "adapters" / "pyln-proto.deviations.json"
NODE_KEY, AD = bytes([0x41] * 32), bytes([0x42] * 32)


def test_run_against_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "run", "--adapter", REFERENCE, "--suite", "valid",
                 "--suite", "malformed", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["counts"]["disagree"] == 0
    assert report["counts"]["agree"] == len(report["cases"]) > 100


@pytest.mark.pyln
def test_run_reports_pyln_disagreements_with_both_answers(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "run", "--adapter", PYLN, "--suite", "malformed"]) == 1
    text = capsys.readouterr().out
    assert "DISAGREE malformed:bigsize:non-minimal-fd [bigsize_decode]" in text
    assert "rule: BOLT 1 › Appendix A" in text and "sphinxamp: {'error'" in text
    assert main(["conformance", "run", "--adapter", PYLN, "--suite", "malformed",
                 "--deviations", str(PYLN_DEVIATIONS)]) == 0
    assert "known deviation D2-no-minimal-bigsize" in capsys.readouterr().out.replace(
        "KNOWN_DEVIATION", "known deviation")


def test_export_writes_bolt_style_files(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "export", "--out", str(tmp_path), "--seed", "4",
                 "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    files = sorted(tmp_path.glob("*.json"))
    assert [str(f) for f in files] == sorted(listing["files"])
    doc = json.loads((tmp_path / "malformed-onion_peel.json").read_text())
    assert doc["protocol"] == "sphinxamp-conformance/2" and doc["comment"]
    version = next(t for t in doc["tests"] if t["id"].endswith("onion:version"))
    assert version["expect"]["error"]["failure_code"] == 0xC004
    assert sum(len(json.loads(f.read_text())["tests"]) for f in files) == listing["cases"]


def test_fuzz_corpus_passes_the_hmac(tmp_path: Path) -> None:
    assert main(["fuzz", "corpus", "--node-key", NODE_KEY.hex(), "--assoc-data", AD.hex(),
                 "--out", str(tmp_path), "--count", "42"]) == 0
    files = sorted(tmp_path.iterdir())
    assert len(files) == 42
    kinds = {f.name.split("-", 2)[1] for f in files}
    assert {"valid", "boundary", "mutated", "rule", "frame"} <= kinds
    refused = 0
    for file in files:
        data = file.read_bytes()
        assert len(data) == 1366
        try:
            peel_onion(data, NODE_KEY, AD)
        except InvalidOnionHmac:
            pytest.fail(f"{file.name}: HMAC does not verify")
        except DecodeError:
            refused += 1
    assert refused  # the malformed frames reach the frame reader and are refused there
    with pytest.raises(InvalidOnionHmac):  # and only for this node
        peel_onion(files[0].read_bytes(), bytes([0x43] * 32), AD)


def test_fuzz_corpus_go_format(tmp_path: Path) -> None:
    assert main(["fuzz", "corpus", "--node-key", NODE_KEY.hex(), "--assoc-data", AD.hex(),
                 "--out", str(tmp_path), "--count", "3", "--format", "go"]) == 0
    for file in tmp_path.iterdir():
        head, body = file.read_text().split("\n", 1)
        assert head == "go test fuzz v1" and body.startswith('[]byte("')
        raw = body.strip()[len('[]byte("'):-2]
        assert len(raw.encode().decode("unicode_escape").encode("latin-1")) == 1366


def test_installed_entry_point(tmp_path: Path) -> None:
    run = subprocess.run([*SPHINXAMP, "conformance", "run", "--adapter",
                          f"{sys.executable} -m sphinxamp conformance adapter", "--suite",
                          "malformed"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    counts, grades = run.stdout.strip().splitlines()[-2:]
    assert "0 disagree" in counts and "0 adapter error" in counts and "0 note" in counts
    assert grades.startswith("findings by grade: MUST 0 ")
    hello = subprocess.run([*SPHINXAMP, "conformance", "adapter"], input='{"id":1,'
                           '"op":"hello"}\n', capture_output=True, text=True, timeout=60,
                           check=True)
    assert json.loads(hello.stdout)["protocol"] == "sphinxamp-conformance/2"


def test_vectors_check_bolt(tmp_path: Path) -> None:
    """An official file read as published; without the shared copy, onion-test.json is
    rebuilt from the recorded vector (same inputs, same published onion)."""
    folder, _ = published_copy(tmp_path / "bolts")
    path = (folder or tmp_path) / "onion-test.json"
    if not path.is_file():
        path = rebuilt_onion_test(tmp_path / "onion-test.json")
    run = subprocess.run([*SPHINXAMP, "vectors", "check", "--bolt", str(path), "--json"],
                         capture_output=True, text=True, timeout=60, check=False)
    report = json.loads(run.stdout)
    assert run.returncode == 0 and report["failed"] == 0 and report["passed"] == 6
    broken = json.loads(path.read_text())
    path = tmp_path / "altered.json"
    broken["onion"] = broken["onion"][:-2] + "00"
    path.write_text(json.dumps(broken))
    assert main(["vectors", "check", "--bolt", str(path)]) == 1


def differential(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "fuzz" / "differential.py"), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, onion in corpus_inputs(NODE_KEY, AD, 30, seed=2):
        (folder / name).write_bytes(onion)
    return folder


@pytest.mark.pyln
def test_differential_replay_finds_pyln_deviations(tmp_path: Path) -> None:
    folder = seeds(tmp_path)
    plain = differential("--adapter", PYLN, "--target", "peel_raw", "--replay",
                         "--findings", str(tmp_path / "plain"), str(folder))
    counts = json.loads(plain.stdout)
    assert plain.returncode == 1 and counts["findings"] > counts["classes"] > 0
    # One file pair per class, whatever the number of findings; the table lists them.
    saved = sorted((tmp_path / "plain").glob("class-*.json"))
    assert len(saved) == counts["classes"] == len(list((tmp_path / "plain").glob("*.input")))
    finding = json.loads(saved[0].read_text())
    assert finding["sphinxamp"] != finding["adapter"] and finding["request"]["op"] == "onion_peel"
    assert plain.stderr.splitlines()[0].split()[:3] == ["count", "grade", "op"]
    known = differential("--adapter", PYLN, "--target", "peel_raw", "--replay",
                         "--deviations", str(PYLN_DEVIATIONS), "--findings",
                         str(tmp_path / "known"), str(folder))
    counts = json.loads(known.stdout)
    assert known.returncode == 0, known.stdout
    assert counts["findings"] == 0 and counts["known_deviation"] > 0 and counts["agree"] > 0


def test_differential_under_atheris_and_fuzz_run(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed: the differential "
                        "harness and fuzz/run fuzz under it (the 'fuzz' extra)")
    folder = seeds(tmp_path)
    run = differential("--adapter", REFERENCE, "--target", "peel_reseal", "--findings",
                       str(tmp_path / "f"), "-runs=300", str(folder))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Done 300 runs" in run.stderr and not (tmp_path / "f").exists()
    campaign = subprocess.run([str(ROOT / "fuzz" / "run"), "--adapter", REFERENCE,
                               "--seconds", "3", "bigsize"], capture_output=True, text=True,
                              timeout=300, check=False)
    assert campaign.returncode == 0, campaign.stdout + campaign.stderr
    assert "[bigsize] 0 new finding class(es)" in campaign.stdout


def test_profile_lnd(capsys: pytest.CaptureFixture[str]) -> None:
    """lnd answers payload refusals with offset 0 (htlcswitch/link.go) and refuses the writer
    MUST NOTs a BOLT reader accepts: the reference run with --profile lnd agrees with itself;
    a bolt-profile adapter judged under lnd disagrees (a MUST) exactly on the payloads the
    profiles judge apart, and its other locations are notes (the location is a MAY)."""
    lnd_adapter = f"{REFERENCE} --profile lnd"
    assert main(["conformance", "run", "--adapter", lnd_adapter, "--profile", "lnd",
                 "--suite", "valid", "malformed", "--json"]) == 0
    capsys.readouterr()
    assert main(["conformance", "run", "--adapter", REFERENCE, "--profile", "lnd",
                 "--suite", "valid", "malformed", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    differing = {c["id"] for c in report["cases"] if c["status"] == "disagree"}
    # lnd also reads a blinded final payload without total_amount_msat (the profile's model).
    assert differing == {"valid:payload:writer:intermediate-payment-data",
                         "valid:payload:writer:final-short-channel-id",
                         "valid:payload:optional:intermediate-amp",
                         "malformed:payload:blinded-final:omits-18"}
    assert report["grades"]["MUST"]["disagree"] == 4
    notes = [c for c in report["cases"] if c["status"] == "note"]
    assert len(notes) > 5 and {c["difference"]["kind"] for c in notes} == {"location"}
    assert report["grades"]["MAY"]["note"] == len(notes) == report["counts"]["note"]
