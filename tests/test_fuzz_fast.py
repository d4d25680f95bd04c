"""The fast fuzz targets (fuzz/fuzz_<X>_fast.py): one beside each slow oracle target, on its
oracle's corpus, and reporting what they promise to report: any exception that is not the
library's refusal of bytes, a refusal without a reason or pointing outside the input, a
value that does not re-encode to the input, and (on the inputs sampled by CRC) an allocation
beyond the oracle targets' memory bound."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))  # harnesses import their helpers as top-level modules

from sphinxamp.errors import (  # noqa: E402
    FinalIncorrectHtlcAmount,
    InvalidOnionHmac,
    InvalidOnionPayload,
    TlvError,
)

_fast = importlib.import_module("_fast")
_targets = importlib.import_module("_targets")

# The parsers whose oracle targets run at a few thousand inputs per second: each must have a
# fast target.
PARSERS = ("bigsize", "tlv_stream", "tlv_typed", "payload_intermediate", "payload_final",
           "payload_blinded_intermediate", "payload_blinded_final", "peel_raw")
# What each fast target calls, as (module holding the name, name): planting a fault there
# must reach the harness.
DECODER = {
    "bigsize": ("fuzz_bigsize_fast", "decode_bigsize"),
    "tlv_stream": ("fuzz_tlv_stream_fast", "decode_stream"),
    "peel_raw": ("fuzz_peel_raw_fast", "peel_onion"),
    **{p: ("_payload_fast", "decode_payload") for p in PARSERS if p.startswith("payload_")},
}


def _fast_module(parser: str) -> ModuleType:
    return importlib.import_module(f"fuzz_{parser}_fast")


def _seed(parser: str) -> bytes:
    """A committed seed the parser accepts (so the call is reached and returns a value)."""
    seeds = sorted((FUZZ / "corpus" / parser).iterdir())
    prefer = [s for s in seeds if s.name.startswith(("vec-", "gen-"))] or seeds
    return prefer[0].read_bytes()


def _plant(monkeypatch: pytest.MonkeyPatch, parser: str, fault: Callable[..., Any]) -> None:
    if parser == "tlv_typed":
        class Schema:
            name = "planted"
            decode = staticmethod(fault)

        monkeypatch.setattr(_fast_module(parser), "SCHEMAS", [Schema()])
        return
    module, name = DECODER[parser]
    monkeypatch.setattr(importlib.import_module(module), name, fault)


@pytest.mark.parametrize("parser", PARSERS)
def test_each_slow_parser_has_a_fast_target_on_its_oracle_corpus(
        parser: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = f"{parser}_fast"
    assert (FUZZ / f"fuzz_{fast}.py").is_file()
    assert (FUZZ / f"fuzz_{parser}.py").is_file()
    assert _targets.corpus_of(fast) == parser and _targets.corpus_of(parser) == parser
    assert (FUZZ / "corpus" / parser).is_dir() and not (FUZZ / "corpus" / fast).exists()
    assert not (FUZZ / "dict" / f"{fast}.dict").exists()
    # The runner gives the fast target its oracle's seeds, dictionary and max_len.
    runner = importlib.import_module("runner")
    monkeypatch.setattr(runner, "OUT", tmp_path / "out")
    monkeypatch.setattr(runner, "CRASHES", tmp_path / "crashes")
    args = argparse.Namespace(python=sys.executable, seconds=1, jobs=1)
    cmd = runner.fuzz_command(args, fast)
    assert cmd[-1] == str(FUZZ / "corpus" / parser)
    assert f"-dict={FUZZ / 'dict' / f'{parser}.dict'}" in cmd
    assert f"-max_len={runner.MAX_LEN.get(parser, 4096)}" in cmd
    assert runner.module_of(fast) == runner.module_of(parser)


def test_only_the_fast_targets_borrow_a_corpus() -> None:
    fast = _targets.fast_targets()
    assert sorted(fast) == sorted(f"{p}_fast" for p in PARSERS)
    assert set(_targets.corpora()) == set(_targets.harnesses()) - set(fast)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_planted_non_refusal_escapes(parser: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fault(*_: object, **__: object) -> Any:
        raise IndexError("planted")

    _plant(monkeypatch, parser, fault)
    with pytest.raises(IndexError, match="planted"):
        _fast_module(parser).test_one_input(_seed(parser))


@pytest.mark.parametrize("parser", PARSERS)
def test_a_payment_error_is_no_refusal_of_bytes(parser: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """PaymentError is a PolicyError, so the harness catches it, but it judges an HTLC, not
    bytes: a parser raising it has a bug."""
    def fault(*_: object, **__: object) -> Any:
        raise FinalIncorrectHtlcAmount("planted", reason="planted", offset=0)

    _plant(monkeypatch, parser, fault)
    with pytest.raises(AssertionError, match="FinalIncorrectHtlcAmount"):
        _fast_module(parser).test_one_input(_seed(parser))


# A refusal of each target's own kind, pointing one byte past the end of the input.
_OWN_KIND = {"tlv_stream": TlvError, "peel_raw": InvalidOnionHmac,
             **{p: InvalidOnionPayload for p in PARSERS if p.startswith("payload_")}}


@pytest.mark.parametrize("parser", sorted(_OWN_KIND))
def test_a_refusal_must_point_inside_the_input(parser: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seed = _seed(parser)

    def fault(data: object, *_: object, **__: object) -> Any:
        size = len(data) if isinstance(data, bytes) else len(seed)
        raise _OWN_KIND[parser]("planted", reason="planted", offset=size + 1)

    _plant(monkeypatch, parser, fault)
    with pytest.raises(AssertionError, match="outside input"):
        _fast_module(parser).test_one_input(seed)


def test_a_refusal_needs_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def fault(*_: object, **__: object) -> Any:
        raise TlvError("planted", reason="", offset=0)

    _plant(monkeypatch, "tlv_stream", fault)
    with pytest.raises(AssertionError, match="without a reason"):
        _fast_module("tlv_stream").test_one_input(b"\x01\x00")


def test_real_refusals_pass() -> None:
    """Bytes the spec refuses (BOLT 1 Appendix A/B: a truncated BigSize, a value past the end
    of the stream, a payload missing its amount) are refused quietly."""
    _fast_module("bigsize").test_one_input(b"\xfd\x00")
    _fast_module("tlv_stream").test_one_input(bytes.fromhex("0f05aa"))
    _fast_module("payload_final").test_one_input(bytes.fromhex("040100"))


def test_a_stream_that_does_not_re_encode_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _fast_module("tlv_stream")
    real = module.decode_stream
    monkeypatch.setattr(module, "decode_stream", lambda data: real(data)[1:])
    with pytest.raises(AssertionError, match="round trip"):
        module.test_one_input(bytes.fromhex("0100" "0201aa"))


def test_a_payload_that_does_not_re_encode_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    class Lossy:
        def encode(self) -> bytes:
            return b"\x02\x00"

    _plant(monkeypatch, "payload_final", lambda *_, **__: Lossy())
    with pytest.raises(AssertionError, match="round trip"):
        _fast_module("payload_final").test_one_input(bytes.fromhex("02020001040100"))


def _sampled_input(prefix: bytes) -> bytes:
    """An input the memory bound is checked on: its CRC-32 is a multiple of MEMORY_EVERY."""
    for n in range(1 << 24):
        data = prefix + n.to_bytes(3, "big")
        if zlib.crc32(data) % _fast.MEMORY_EVERY == 0:
            return data
    raise AssertionError("no sampled input")  # pragma: no cover


def test_the_memory_bound_holds_on_sampled_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    def greedy(data: bytes) -> Any:
        hog = bytearray(1 << 20)  # far beyond 64 KiB + 256 B per input byte
        del hog
        raise TlvError("planted", reason="planted", offset=0)

    _plant(monkeypatch, "tlv_stream", greedy)
    module = _fast_module("tlv_stream")
    sampled = _sampled_input(b"\x01")
    with pytest.raises(AssertionError, match="peaked"):
        module.test_one_input(sampled)
    unsampled = next(sampled + bytes((i,)) for i in range(256)
                     if not _fast.sampled(sampled + bytes((i,))))
    module.test_one_input(unsampled)  # the bound runs on one input in MEMORY_EVERY only


def test_the_bigsize_writer_gives_bolt1_encoding_vectors() -> None:
    """`_fast.write_bigsize` against BOLT 1 Appendix A, "BigSize Encoding Tests"
    (vectors/bolt01-bigsize.json)."""
    doc = json.loads((ROOT / "vectors" / "bolt01-bigsize.json").read_text())
    cases = [c for c in doc["cases"] if c["kind"] == "bigsize-encode"]
    assert len(cases) == 8  # 0, 252, 253, 65535, 65536, 2^32 - 1, 2^32, 2^64 - 1
    for case in cases:
        assert _fast.write_bigsize(case["value"]).hex() == case["expect"]["bytes"], case["name"]


def test_the_corpus_is_named_without_the_oracle_harness(tmp_path: Path) -> None:
    """`check-oss-fuzz-build --target X_fast` copies only the selected harnesses, and
    build.sh asks `python3 fuzz/_targets.py X_fast` which seeds to zip: the corpus alone must
    name it."""
    fuzz = tmp_path / "fuzz"
    (fuzz / "corpus" / "bigsize").mkdir(parents=True)
    (fuzz / "_targets.py").write_bytes((FUZZ / "_targets.py").read_bytes())
    (fuzz / "fuzz_bigsize_fast.py").write_text("")
    for target, corpus in (("bigsize_fast", "bigsize"), ("tlv_stream_fast", "tlv_stream_fast"),
                           ("bigsize", "bigsize")):
        done = subprocess.run([sys.executable, str(fuzz / "_targets.py"), target],
                              capture_output=True, text=True, check=True, timeout=60)
        assert done.stdout.strip() == corpus
