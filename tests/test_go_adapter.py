"""The lightning-onion (Go) adapter: its build files, and the kit run through the built binary.

Facts from lightning-onion 98bd564 (github.com/lightningnetwork/lightning-onion): its go.mod
requires btcec/v2 v2.1.0, btcd v0.22.0-beta.0.20220207191057-4dc4ff7963b4, x/crypto
75b288015ac9, aead/chacha20 8b13a72661da and declares go 1.19; sphinx.go has no
WithTLVPayloadOnly (added in v1.3.0, commit 75327ca).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ROOT / "examples" / "adapters"
FOLDER = ADAPTERS / "lightning-onion"
DEVIATIONS = ADAPTERS / "lightning-onion.deviations.json"
BINARY_NAME = "lightning-onion-adapter"
PINNED = {  # module -> version, as lightning-onion 98bd564's go.mod has them
    "github.com/lightningnetwork/lightning-onion":
        "v1.2.1-0.20240712235311-98bd56499dfb",
    "github.com/btcsuite/btcd/btcec/v2": "v2.1.0",
    "github.com/btcsuite/btcd": "v0.22.0-beta.0.20220207191057-4dc4ff7963b4",
    "github.com/aead/chacha20": "v0.0.0-20180709150244-8b13a72661da",
    "github.com/btcsuite/btclog": "v0.0.0-20170628155309-84c8d2346e9f",
    "github.com/decred/dcrd/dcrec/secp256k1/v4": "v4.0.1",
    "golang.org/x/crypto": "v0.0.0-20200622213623-75b288015ac9",
    "golang.org/x/sys": "v0.0.0-20200814200057-3d37ad5750ed",
}


def _requires(go_mod: str) -> dict[str, str]:
    """module -> version of every require line, in a block or alone."""
    out: dict[str, str] = {}
    in_block = False
    for raw in go_mod.splitlines():
        line = raw.split("//")[0].strip()
        if line == "require (":
            in_block = True
        elif in_block and line == ")":
            in_block = False
        elif in_block and line:
            module, version = line.split()
            out[module] = version
        elif line.startswith("require "):
            module, version = line.removeprefix("require ").split()
            out[module] = version
    return out


def test_go_mod_requires_the_versions_of_lightning_onion_98bd564() -> None:
    go_mod = (FOLDER / "go.mod").read_text()
    assert _requires(go_mod) == PINNED
    assert re.search(r"^go 1\.19$", go_mod, re.M)  # what Debian 12's golang-go builds
    assert "replace" not in go_mod.split("//")[0]  # build.sh adds them, for local folders


def test_one_binary_name_in_build_script_readme_and_code() -> None:
    build = (FOLDER / "build.sh").read_text()
    readme = (ADAPTERS / "README.md").read_text()
    main_go = (FOLDER / "main.go").read_text()
    assert f'"$here/{BINARY_NAME}"' in build
    assert "GOFLAGS=-mod=mod GOPROXY=off" in build and "go mod edit -replace" in build
    for text in (readme, main_go):
        named = set(re.findall(r"lightning-onion/([\w.-]+-adapter)\b", text))
        assert named == {BINARY_NAME}
        assert "-o adapter" not in text and "lightning-onion/adapter" not in text
    assert (FOLDER / ".gitignore").read_text().split() == [BINARY_NAME]


def test_with_tlv_payload_only_only_under_its_build_tag() -> None:
    """98bd564 has no WithTLVPayloadOnly: the default build must not name it."""
    for path in FOLDER.glob("*.go"):
        text = path.read_text()
        if "sphinx.WithTLVPayloadOnly()" in text:
            assert text.startswith("//go:build tlvpayloadonly\n"), path.name
        elif path.name.startswith("peel_options"):
            assert text.startswith("//go:build !tlvpayloadonly\n"), path.name
    assert "tags=tlvpayloadonly" in (FOLDER / "build.sh").read_text()


def _binary() -> Path:
    return Path(os.environ.get("SPHINXAMP_GO_ADAPTER", str(FOLDER / BINARY_NAME)))


@pytest.mark.skipif(not _binary().is_file(), reason=(
    f"no built lightning-onion adapter at {_binary()}: run "
    "examples/adapters/lightning-onion/build.sh (Go >= 1.19 and the module folders it lists) "
    "or set SPHINXAMP_GO_ADAPTER to a built binary"))
def test_the_kit_through_the_built_adapter() -> None:
    """Every supported case agrees or is a listed deviation of lightning-onion 98bd564, and
    each deviation is met (a listed deviation that no longer shows is stale)."""
    proc = subprocess.run(
        [sys.executable, "-m", "sphinxamp", "conformance", "run", "--adapter", str(_binary()),
         "--deviations", str(DEVIATIONS), "--json"],
        capture_output=True, text=True, timeout=600, check=False)
    assert proc.stdout.startswith("{"), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["hello"]["implementation"] == "lightning-onion"
    counts = report["counts"]
    assert counts["adapter_error"] == 0 and counts["disagree"] == 0, counts
    assert counts["agree"] >= 50, counts
    assert proc.returncode == 0 and report["ok"]
    known = {c["id"] for c in report["cases"] if c["status"] == "known_deviation"}
    assert {"malformed:onion:payload-length-0", "malformed:onion:payload-length-1"} <= known
    assert any("frame-past-area" in case for case in known), known
