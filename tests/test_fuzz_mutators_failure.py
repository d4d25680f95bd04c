"""fuzz/_mutate_failure.py: the failure_decrypt target's structure-aware mutator re-seals
what it mutates, so its outputs get past the erring hop's HMAC and reach the message reader.

The outer check is judged twice: by the library's `decrypt_failure` and by a reference
written here from BOLT 4 › Returning Errors (strip `ammag` layers in route order, the first
hop whose HMAC-SHA256 under `um` covers the rest names the erring hop) and › Key Generation
(key = HMAC-SHA256(ASCII(key type), shared secret); ChaCha20 with a zero nonce).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from sphinxamp import decrypt_failure
from tests.fuzz_mutators import (
    MAX_SIZE,
    check_harness_installs_mutator,
    corpus_seeds,
    fuzz_module,
    outer_check_tally,
)

_mutate = fuzz_module("_mutate")
_mutate_failure = fuzz_module("_mutate_failure")
harness = fuzz_module("fuzz_failure_decrypt")

SEEDS = corpus_seeds("failure_decrypt")
ROUNDS = 6


def _key(kind: bytes, secret: bytes) -> bytes:
    return hmac.new(kind, secret, hashlib.sha256).digest()


def _xor_stream(key: bytes, data: bytes) -> bytes:
    stream = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor().update(
        bytes(len(data)))
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def reference_open(packet: bytes) -> tuple[int, bytes] | None:
    """The erring hop and its plaintext after the HMAC, or None when no HMAC verifies."""
    view = packet
    for hop, secret in enumerate(harness.SECRETS):
        view = _xor_stream(_key(b"ammag", secret), view)
        mac = hmac.new(_key(b"um", secret), view[32:], hashlib.sha256).digest()
        if len(view) >= 32 and hmac.compare_digest(mac, view[:32]):
            return hop, view[32:]
    return None


def _frame(message: bytes) -> bytes:
    pad = max(0, 256 - len(message))
    return len(message).to_bytes(2, "big") + message + pad.to_bytes(2, "big") + bytes(pad)


def plaintext(data: bytes) -> tuple[int, bytes] | None:
    """What the erring hop sealed, read from a harness input with the reference."""
    mode, rest = data[0] % 3, data[1:]
    if mode == 1:
        return rest[0] % 5, _frame(rest[2:])
    return reference_open(rest[920:] if mode == 2 else rest)


def _mutator() -> Any:
    return _mutate_failure.FailureOnionMutator(harness.SECRETS)


def _outputs(seed: bytes, max_size: int = MAX_SIZE) -> list[bytes]:
    rng = random.Random(seed)
    mutator = _mutator()

    def mutate_bytes(data: bytes, size: int) -> bytes:
        return bytes(_mutate.fallback_mutate(data, size, rng))

    outs = [mutator.mutate(seed, max_size, rng, mutate_bytes) for _ in range(ROUNDS)]
    outs.append(mutator.crossover(seed, SEEDS[0].read_bytes(), max_size, rng, mutate_bytes))
    return [o for o in outs if o is not None]


def test_the_seeds_that_open_are_those_the_reference_opens() -> None:
    for path in SEEDS:
        seed = path.read_bytes()
        relay = bool(seed) and seed[0] % 3 == 1
        opens = len(seed) >= 3 if relay else bool(seed) and plaintext(seed) is not None
        assert (_mutator().open(seed) is not None) == opens, path.name
    assert sum(_mutator().open(p.read_bytes()) is not None for p in SEEDS) >= 50


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_outputs_pass_the_hmac_reach_a_new_message_and_the_harness_accepts_them(
        path: Path) -> None:
    seed = path.read_bytes()
    outs = _outputs(seed)
    if _mutator().open(seed) is None:
        assert outs == [], "an input that does not open is left to the plain mutator"
        return
    before = plaintext(seed)
    changed = 0
    for out in outs:
        assert len(out) <= MAX_SIZE
        after = plaintext(out)
        assert after is not None, f"output {out.hex()[:80]}… fails the erring hop's HMAC"
        if out[0] % 3 != 1:
            mode2 = out[0] % 3 == 2
            got = decrypt_failure(out[921:] if mode2 else out[1:], harness.SECRETS,
                                  out[1:921] if mode2 else None)
            assert got.hop_index == after[0]
        changed += after[1] != (before[1] if before else None)
        harness.test_one_input(out)
    assert changed, "no output changed the plaintext"


def test_most_outputs_seal_a_new_plaintext() -> None:
    pairs = [(plaintext(p.read_bytes()), plaintext(out)) for p in SEEDS
             for out in _outputs(p.read_bytes())]
    changed = sum(after is not None and after[1] != (before[1] if before else None)
                  for before, after in pairs)
    assert len(pairs) >= 300 and changed * 10 >= len(pairs) * 8, f"{changed} of {len(pairs)}"


def test_most_outputs_are_sealed_packets_not_relays() -> None:
    modes = [out[0] % 3 for p in SEEDS for out in _outputs(p.read_bytes())]
    assert modes.count(1) * 2 < len(modes)
    assert modes.count(0) and modes.count(2)


@pytest.mark.parametrize("max_size", [1300, 300, 40])
def test_outputs_fit_a_small_max_size_and_stay_sealed(max_size: int) -> None:
    for path in SEEDS[::4]:
        for out in _outputs(path.read_bytes(), max_size):
            assert len(out) <= max_size
            assert plaintext(out) is not None
            harness.test_one_input(out)


def test_a_sealed_output_counts_as_past_the_outer_check_and_a_flipped_byte_does_not() -> None:
    relay = next(p.read_bytes() for p in SEEDS if p.name.startswith("gen-relay"))
    out = next(o for o in _outputs(relay) if o[0] % 3 == 0 and len(o) > 100)
    assert outer_check_tally(harness.test_one_input, [
        [out],
        [out[:50] + bytes([out[50] ^ 1]) + out[51:]],
        [relay],  # sealed by the harness: not a layered input
    ]) == [(1, 1), (2, 1), (2, 1)]


def test_the_harness_installs_the_mutator_and_plain_turns_it_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    check_harness_installs_mutator(
        monkeypatch, "fuzz_failure_decrypt.py", _mutate_failure.FailureOnionMutator)


def test_a_crossover_with_an_input_that_does_not_open_still_gives_a_sealed_packet() -> None:
    rng = random.Random(7)
    seeds = [p.read_bytes() for p in SEEDS if _mutator().open(p.read_bytes()) is not None]
    for seed in seeds[:20]:
        out = _mutator().crossover(seed, b"\x00" + bytes(300), MAX_SIZE, rng,
                                   lambda d, n: _mutate.fallback_mutate(d, n, rng))
        assert out is not None and plaintext(out) is not None
