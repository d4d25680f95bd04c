"""fuzz/_mutate_blinding: the structure-aware mutators of encrypted_data_aead and
onion_message.

The outer checks are the library's: ChaCha20-Poly1305 of encrypted_recipient_data under
rho = HMAC256("rho", ECDH(node, path_key)) (BOLT 4 › Route Blinding), and for an onion
message the Sphinx HMAC first (BOLT 4 › Onion Messages, the reader). Mutated inputs must get
past them and carry a changed plaintext.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sphinxamp import Dropped, process_onion_message
from sphinxamp.errors import BadOnionError, MalformedOnionMessage, UndecryptableData
from sphinxamp.primitives import KEY_RHO, aead_decrypt, derive_key
from tests.fuzz_mutators import MAX_SIZE, corpus_seeds, fuzz_module

_mutate = fuzz_module("_mutate")
ref = fuzz_module("_blinding_checks")
mutators = fuzz_module("_mutate_blinding")
aead_harness = fuzz_module("fuzz_encrypted_data_aead")
message_harness = fuzz_module("fuzz_onion_message")
sphinx = fuzz_module("_mutate_onion")

AEAD_SEEDS = corpus_seeds("encrypted_data_aead")
MESSAGE_SEEDS = corpus_seeds("onion_message")
ROUNDS = 12


def _library_rho() -> bytes:
    path_key, _ = ref.seal(b"")
    secret = sphinx.blinding_secret(ref.NODE_KEYS[0], path_key)
    assert secret is not None
    return derive_key(KEY_RHO, secret)


def test_the_mutator_seals_for_the_harness_path_key() -> None:
    assert ref.seal(b"")[0] == mutators.AEAD_PATH_KEY


def _plaintext(data: bytes) -> bytes | None:
    if data[0] & 1:
        return data[1:]
    return aead_decrypt(_library_rho(), data[1:])


@pytest.mark.parametrize("seed", AEAD_SEEDS, ids=[p.name for p in AEAD_SEEDS])
def test_aead_mutations_pass_the_tag_and_change_the_plaintext(seed: Path) -> None:
    data = seed.read_bytes()
    mutator, rng, mutate_bytes = mutators.EncryptedDataAeadMutator(), random.Random(
        seed.name), _mutate.byte_mutator()
    before = _plaintext(data) if data else None
    changed = 0
    for _ in range(ROUNDS):
        out = mutator.mutate(data, MAX_SIZE, rng, mutate_bytes)
        if before is None:
            assert out is None  # nothing that opens: a plain mutation instead
            continue
        assert out is not None and len(out) <= MAX_SIZE
        plain = _plaintext(out)
        assert plain is not None, "the library's AEAD refuses the mutated ciphertext"
        changed += plain != before
        aead_harness.test_one_input(out)
    assert before is None or changed >= ROUNDS // 2


def test_aead_crossover_seals_both_halves() -> None:
    even = [p.read_bytes() for p in AEAD_SEEDS
            if p.read_bytes()[:1] == b"\x00" and _plaintext(p.read_bytes()) is not None]
    out = mutators.EncryptedDataAeadMutator().crossover(even[0], even[-1], MAX_SIZE,
                                                        random.Random(1), _mutate.byte_mutator())
    assert out is not None and out[0] & 1 == 0 and _plaintext(out) is not None


def _outcome(data: bytes) -> tuple[object, ...]:
    """What the node does, raising when the input was stopped at the outer check."""
    msg = mutators._Message.split(data)
    assert msg is not None
    path = msg.path_key if data[0] & mutators.PATH_KEY_GIVEN else None
    body = data[34:] if path is not None else data[1:]
    got = process_onion_message(body, msg.node_key, path_key=path)
    if isinstance(got, Dropped):
        assert not isinstance(got.error, BadOnionError | MalformedOnionMessage), got.error
        return ("drop", got.reason, type(got.error))
    return ("ok", got.payload, got.encrypted_data)


SEALED = [p for p in MESSAGE_SEEDS if mutators._Message.split(p.read_bytes()) is not None]


def test_sealed_seeds_in_both_framings() -> None:
    modes = {bool(p.read_bytes()[0] & mutators.PATH_KEY_GIVEN) for p in SEALED}
    assert modes == {True, False}


@pytest.mark.parametrize("seed", MESSAGE_SEEDS, ids=[p.name for p in MESSAGE_SEEDS])
def test_message_mutations_pass_the_hmac_and_reach_the_data(seed: Path) -> None:
    data = seed.read_bytes()
    mutator, rng, mutate_bytes = mutators.OnionMessageMutator(), random.Random(
        seed.name), _mutate.byte_mutator()
    outs = [mutator.mutate(data, 1 << 16, rng, mutate_bytes) for _ in range(ROUNDS)]
    if seed not in SEALED or not _opens(data):
        assert all(out is None for out in outs)
        return
    try:
        before = _outcome(data)
    except AssertionError:  # the seed is one the node refuses at the HMAC
        before = None
    changed = 0
    for out in outs:
        assert out is not None and len(out) <= 1 << 16
        got = _outcome(out)
        changed += got != before
        message_harness.test_one_input(out)
    assert changed >= ROUNDS // 2, f"{changed} of {ROUNDS} changed"



def _opens(data: bytes) -> bool:
    msg = mutators._Message.split(data)
    assert msg is not None
    return sphinx.open_layer(msg.packet, msg.node_key, msg.path_key) is not None


def test_most_message_mutations_still_open_the_recipient_data() -> None:
    """The mutations that went inside encrypted_recipient_data were sealed again: most
    outputs reach the data decoder instead of stopping at the AEAD."""
    mutator, rng, mutate_bytes = mutators.OnionMessageMutator(), random.Random(5), \
        _mutate.byte_mutator()
    opened = total = 0
    for seed in SEALED:
        data = seed.read_bytes()
        if not _opens(data):
            continue
        for _ in range(ROUNDS):
            out = mutator.mutate(data, 1 << 16, rng, mutate_bytes)
            assert out is not None
            total += 1
            opened += _outcome(out)[2] is not UndecryptableData
    assert total and opened >= total // 2, (opened, total)


def test_plain_mode_installs_no_mutator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_mutate, "_RUNNING", False)
    monkeypatch.setenv(_mutate.MUTATOR_ENV, "plain")
    for mutator in (mutators.EncryptedDataAeadMutator(), mutators.OnionMessageMutator()):
        assert _mutate.setup_kwargs(mutator) == {}


def test_message_crossover_with_a_built_input_still_seals_the_first() -> None:
    built = next(data for data in (p.read_bytes() for p in MESSAGE_SEEDS)
                 if data and data[0] & 0xC0 == 0x40)
    mutator, rng = mutators.OnionMessageMutator(), random.Random(2)
    for seed in SEALED:
        if _opens(seed.read_bytes()):
            out = mutator.crossover(seed.read_bytes(), built, 1 << 16, rng,
                                    _mutate.byte_mutator())
            assert out is not None
            _outcome(out)  # asserts the Sphinx HMAC and framing were passed


@pytest.mark.parametrize("max_size", [0, 17, 60, 1400])
def test_no_output_exceeds_the_size_libfuzzer_allows(max_size: int) -> None:
    rng, mutate_bytes = random.Random(max_size), _mutate.byte_mutator()
    for mutator, seeds in ((mutators.EncryptedDataAeadMutator(), AEAD_SEEDS),
                           (mutators.OnionMessageMutator(), MESSAGE_SEEDS)):
        for path in seeds:
            data = path.read_bytes()
            for out in (mutator.mutate(data, max_size, rng, mutate_bytes),
                        mutator.crossover(data, seeds[-1].read_bytes(), max_size, rng,
                                          mutate_bytes)):
                assert out is None or len(out) <= max_size
