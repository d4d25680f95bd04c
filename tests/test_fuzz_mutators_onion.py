"""fuzz/_mutate_onion: the structure-aware mutators of a Sphinx layer (peel_raw, and the
differential peel targets with node key 41…41 and associated data 42…42).

The outer check is the library's own peel (BOLT 4 › Onion Decryption: version, key, then
HMAC256(mu, routing area ‖ associated data)): a mutated packet must get past it, so the
mutation reaches the frame reader and the payload parser. Whether the hop payload changed is
read from what the library peels, compared with the seed's peel.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.conformance.corpus import corpus_inputs
from sphinxamp.errors import BadOnionError, DecodeError, InvalidOnionPayload
from sphinxamp.onion import peel_onion
from tests.fuzz_mutators import MAX_SIZE, corpus_seeds, fuzz_module

_mutate = fuzz_module("_mutate")
_peel = fuzz_module("_peel")
mutators = fuzz_module("_mutate_onion")
harness = fuzz_module("fuzz_peel_raw")

SEEDS = corpus_seeds("peel_raw")
ROUNDS = 12


def _peeled(data: bytes) -> tuple[str, Any]:
    """What the library does with a peel_raw input: ('hop', payload), ('frame', reason) for a
    refusal after the MAC, or raises the BadOnion error of the outer check."""
    inp = _peel.split_input(data)
    assert inp is not None
    try:
        hop = peel_onion(inp.packet, inp.node_key, inp.associated_data, **inp.kwargs())
    except InvalidOnionPayload as exc:
        return "frame", exc.reason
    return "hop", (hop.payload, hop.next_packet is None)


def _openable(path: Path) -> bool:
    inp = _peel.split_input(path.read_bytes())
    return inp is not None and mutators.open_layer(inp.packet, inp.node_key,
                                                   inp.path_key) is not None


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_mutations_of_every_seed_pass_the_mac_and_change_the_hop(seed: Path) -> None:
    data = seed.read_bytes()
    mutator, rng = mutators.PeelRawMutator(), random.Random(seed.name)
    mutate_bytes = _mutate.byte_mutator()
    outs = [mutator.mutate(data, MAX_SIZE, rng, mutate_bytes) for _ in range(ROUNDS)]
    if not _openable(seed):
        # A seed with an invalid node key or ephemeral key gets plain mutations instead.
        assert outs == [None] * ROUNDS
        return
    before = _peeled_or_none(data)
    changed = 0
    for out in outs:
        assert out is not None and len(out) <= MAX_SIZE
        got = _peeled(out)  # raises InvalidOnionHmac if the re-seal were wrong
        changed += got != before
        harness.test_one_input(out)
    assert changed >= ROUNDS // 2, f"only {changed} of {ROUNDS} mutations changed the hop"


def _peeled_or_none(data: bytes) -> tuple[str, Any] | None:
    try:
        return _peeled(data)
    except (BadOnionError, DecodeError):  # the seed itself does not get past the MAC
        return None


def test_seeds_cover_payment_blinded_and_message_flavours() -> None:
    kinds = set()
    for path in SEEDS:
        inp = _peel.split_input(path.read_bytes())
        if inp is not None and _openable(path):
            kinds.add((inp.message, inp.path_key is not None))
    assert {(False, False), (False, True), (True, False)} <= kinds


def test_crossover_carries_the_second_inputs_payload() -> None:
    payments = [p.read_bytes() for p in SEEDS if _openable(p)
                and not _peel.split_input(p.read_bytes()).message]
    mutator, rng = mutators.PeelRawMutator(), random.Random(7)
    first, second = payments[0], payments[-1]
    out = mutator.crossover(first, second, MAX_SIZE, rng, _mutate.byte_mutator())
    assert out is not None
    kind, value = _peeled(out)
    want = _peeled(second)
    assert kind == "hop" and want[0] == "hop" and value[0] == want[1][0]


def test_differential_mutator_seals_for_its_fixed_keys() -> None:
    node_key, ad = bytes([0x41] * 32), bytes([0x42] * 32)
    mutator, rng = mutators.FixedKeyPeelMutator(node_key, ad), random.Random(3)
    mutate_bytes = _mutate.byte_mutator()
    onions = [onion for _, onion in corpus_inputs(node_key, ad, 8)]
    changed = 0
    for onion in onions:
        base = _peel_fixed(onion, node_key, ad)
        for _ in range(4):
            out = mutator.mutate(onion, MAX_SIZE, rng, mutate_bytes)
            assert out is not None and len(out) == len(onion)
            changed += _peel_fixed(out, node_key, ad) != base  # raises if the MAC fails
    assert changed >= len(onions) * 2


def _peel_fixed(onion: bytes, node_key: bytes, ad: bytes) -> object:
    try:
        return peel_onion(onion, node_key, ad).payload
    except InvalidOnionPayload as exc:
        return exc.reason


def test_plain_mode_installs_no_mutator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_mutate, "_RUNNING", False)
    monkeypatch.setenv(_mutate.MUTATOR_ENV, "plain")
    assert _mutate.setup_kwargs(mutators.PeelRawMutator()) == {}
    monkeypatch.setenv(_mutate.MUTATOR_ENV, "structured")
    assert set(_mutate.setup_kwargs(mutators.PeelRawMutator())) == {
        "custom_mutator", "custom_crossover"}


def test_differential_peel_targets_install_the_mutator_for_their_keys() -> None:
    differential = fuzz_module("differential")
    assert set(differential.STRUCTURED) == {"peel_raw", "onion_packet"}
    for mutator in differential.STRUCTURED.values():
        assert (mutator.node_key, mutator.associated_data) == (bytes([0x41] * 32),
                                                               bytes([0x42] * 32))


def test_crossover_with_nothing_to_splice_still_seals_the_first() -> None:
    """libFuzzer stacks crossovers on mutations: one that broke the seal would send every
    later step back to the HMAC check."""
    first = next(p.read_bytes() for p in SEEDS if _openable(p))
    mutator, rng = mutators.PeelRawMutator(), random.Random(9)
    for second in (b"", b"\x00" * 40, bytes(range(256)) * 8):
        out = mutator.crossover(first, second, MAX_SIZE, rng, _mutate.byte_mutator())
        assert out is not None
        _peeled(out)  # raises InvalidOnionHmac if the seal were broken


@pytest.mark.parametrize("max_size", [0, 40, 1400, 1500])
def test_no_output_exceeds_the_size_libfuzzer_allows(max_size: int) -> None:
    mutator, rng, mutate_bytes = mutators.PeelRawMutator(), random.Random(max_size), \
        _mutate.byte_mutator()
    for path in SEEDS:
        data = path.read_bytes()
        for out in (mutator.mutate(data, max_size, rng, mutate_bytes),
                    mutator.crossover(data, SEEDS[0].read_bytes(), max_size, rng, mutate_bytes)):
            assert out is None or len(out) <= max_size
