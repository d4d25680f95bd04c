"""Output folders and counts of `sphinxamp fuzz corpus`: every count in its bound writes that
many inputs, and an output path that exists is refused unless --force says otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sphinxamp.errors import DecodeError, InvalidOnionHmac
from sphinxamp.onion import peel_onion

NODE_KEY, AD = bytes([0x41] * 32), bytes([0x42] * 32)
CLI = [sys.executable, "-m", "sphinxamp"]


def corpus(out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "fuzz", "corpus", "--node-key", NODE_KEY.hex(), "--assoc-data",
                           AD.hex(), "--out", out, *extra], capture_output=True, text=True,
                          check=False, timeout=300)


def test_counts_past_the_makers_cycle_fill_the_area_and_still_fit(tmp_path: Path) -> None:
    """Counts of 80 and more drew a boundary payload that fills the routing area and then a
    next hop beside it, which did not fit: the command wrote nothing."""
    done = corpus(str(tmp_path / "out"), "--count", "300")
    assert done.returncode == 0, done.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 300
    for file in files:
        try:
            peel_onion(file.read_bytes(), NODE_KEY, AD)
        except InvalidOnionHmac:
            pytest.fail(f"{file.name}: HMAC does not verify")
        except DecodeError:
            pass  # the malformed frames are meant to be refused past the HMAC


@pytest.mark.parametrize(("make", "said"), [
    ("file", "exists and is not a folder"),
    ("devnull", "exists and is not a folder"),
    ("full", "already holds files; give --force"),
])
def test_existing_outputs_are_refused_in_one_line(tmp_path: Path, make: str, said: str) -> None:
    target = tmp_path / "out"
    if make == "file":
        target.write_text("keep me")
    elif make == "full":
        target.mkdir()
        (target / "seed").write_bytes(b"keep me")
    out = "/dev/null" if make == "devnull" else str(target)
    done = corpus(out, "--count", "2")
    assert done.returncode == 1
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    if make != "devnull":
        assert "keep me" in (target.read_text() if make == "file" else
                             (target / "seed").read_text())


def test_force_writes_into_a_folder_that_holds_files(tmp_path: Path) -> None:
    (tmp_path / "seed").write_bytes(b"mine")
    done = corpus(str(tmp_path), "--count", "2", "--force")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "seed").read_bytes() == b"mine"
    assert len(list(tmp_path.iterdir())) == 3


@pytest.mark.parametrize("count", ["0", "100001", "1e3", "-5"])
def test_counts_out_of_bound_are_usage_errors(tmp_path: Path, count: str) -> None:
    done = corpus(str(tmp_path / "out"), "--count", count)
    assert done.returncode == 2
    assert "--count" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
