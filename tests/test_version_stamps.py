"""Version stamps: `python -m benchmarks --json` and `sphinxamp conformance run --json` say
which sphinxamp and which peers produced their figures, so that a figure can be reproduced.

The expected versions are read from the packages themselves (`__version__`), not from the
installation metadata the stamps use.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from pathlib import Path

import cryptography
import pytest

import sphinxamp
from benchmarks import core, peers
from benchmarks import run as bench_run
from sphinxamp.cli import main

REFERENCE = f"{sys.executable} -m sphinxamp.conformance"


def test_benchmark_json_names_every_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_run.main(["--quick", "--json", "--no-batch", "--no-pyln"]) == 0
    stamp = json.loads(capsys.readouterr().out)["versions"]
    assert set(stamp) == {"python", "sphinxamp", "pyln-proto", "coincurve", "cryptography"}
    assert stamp["python"] == platform.python_version()
    assert stamp["sphinxamp"] == sphinxamp.__version__
    assert stamp["cryptography"] == cryptography.__version__
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", stamp["coincurve"]), stamp
    # The installed distribution's version: a peer that is installed but cannot be imported
    # is still named, so only an importable one is compared with its own __version__.
    try:
        from pyln import proto
    except ImportError:
        assert stamp["pyln-proto"] is None or isinstance(stamp["pyln-proto"], str)
    else:
        assert stamp["pyln-proto"] == proto.__version__


def test_benchmark_table_names_every_version() -> None:
    report = core.Report((), {}, 1, versions={"sphinxamp": "9.8.7", "pyln-proto": None})
    assert report.to_markdown().splitlines()[-1] == (
        "Versions: sphinxamp 9.8.7, pyln-proto not installed")
    assert report.to_dict()["versions"] == {"sphinxamp": "9.8.7", "pyln-proto": None}
    assert peers.version_of("no-such-distribution-here") is None


def test_conformance_run_names_sphinxamp_and_the_adapter(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toy = tmp_path / "toy.py"
    toy.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    req = json.loads(line)\n"
        "    out = {'protocol': 'sphinxamp-conformance/1', 'implementation': 'toy onion',\n"
        "           'version': '1.2.3', 'ops': []} if req['op'] == 'hello' else {\n"
        "           'unsupported': True}\n"
        "    print(json.dumps({'id': req['id'], **out}), flush=True)\n")
    main(["conformance", "run", "--adapter", f"{sys.executable} {toy}", "--suite",
          "recorded", "--json"])
    stamp = json.loads(capsys.readouterr().out)["versions"]
    assert stamp == {"sphinxamp": sphinxamp.__version__,
                     "adapter": {"implementation": "toy onion", "version": "1.2.3"}}


def test_conformance_run_stamp_of_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    """The reference names itself with its version in `implementation` and gives no
    separate `version`: the stamp records what the adapter said, nothing inferred."""
    assert main(["conformance", "run", "--adapter", REFERENCE, "--suite", "recorded",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["versions"]["sphinxamp"] == sphinxamp.__version__
    assert report["versions"]["adapter"]["implementation"] == (
        f"sphinxamp {sphinxamp.__version__}")
    assert report["hello"]["implementation"] == report["versions"]["adapter"]["implementation"]


@pytest.mark.pyln
def test_conformance_run_stamp_of_pyln(capsys: pytest.CaptureFixture[str]) -> None:
    from pyln import proto

    adapter = Path(__file__).resolve().parent.parent / "examples" / "adapters" / (
        "pyln_proto_adapter.py")
    main(["conformance", "run", "--adapter", f"{sys.executable} {adapter}", "--suite",
          "recorded", "--json"])
    stamp = json.loads(capsys.readouterr().out)["versions"]["adapter"]
    assert stamp == {"implementation": "pyln-proto", "version": proto.__version__}
