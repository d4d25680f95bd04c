"""fuzz/_mutate_attribution.py: the attribution target's structure-aware mutator reads hold
times as the origin does, mutates them and seals the chain again with the HMACs of all, some
or none of the hops recomputed.

Hold times are read here by a reference written from BOLT 4 › Returning Errors › Origin node
(hop i's view is the data XORed with the `ammagext` streams of hops 0…i, each hop's view
shifted by one hold time; key = HMAC-SHA256(ASCII(key type), shared secret), ChaCha20 with a
zero nonce). The HMACs are judged by the library's `verify_attribution`, which the BOLT 4
attribution vectors hold (tests/test_attribution.py).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from sphinxamp.failures import create_attribution, verify_attribution, wrap_attribution
from tests.fuzz_mutators import (
    MAX_SIZE,
    check_harness_installs_mutator,
    corpus_seeds,
    fuzz_module,
    outer_check_tally,
)

_mutate = fuzz_module("_mutate")
_mutate_attribution = fuzz_module("_mutate_attribution")
harness = fuzz_module("fuzz_attribution")

SEEDS = corpus_seeds("attribution")
SECRETS: list[bytes] = harness.SECRETS
ROUNDS = 6


def _stream(secret: bytes, size: int) -> bytes:
    key = hmac.new(b"ammagext", secret, hashlib.sha256).digest()
    return Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor().update(bytes(size))


def reference_holds(data: bytes, secrets: Sequence[bytes]) -> list[int]:
    """Every hop's hold time as the origin reads it (whatever the HMACs say), first 20 hops."""
    region, out = data[:80], []
    for secret in secrets[:20]:
        mine = bytes(a ^ b for a, b in zip(region, _stream(secret, 80), strict=True))
        out.append(int.from_bytes(mine[:4], "big"))
        region = mine[4:] + bytes(4)
    return out


def holds_of(data: bytes) -> list[int]:
    hops, mode, rest = data[0] % 27 + 1, data[1] % 3, data[2:]
    if mode == 2:
        raw = rest[: 4 * hops].ljust(4 * hops, b"\0")
        return [int.from_bytes(raw[i : i + 4], "big") for i in range(0, 4 * hops, 4)][:20]
    if mode == 1:
        return [7, *reference_holds(rest, SECRETS[1:hops])][:20]
    return reference_holds(rest, SECRETS[:hops])


def past_outer_check(data: bytes) -> bool:
    """The first HMAC over the input's own bytes: hop 0's (mode 0), hop 1's behind the
    harness's wrap at hop 0 (mode 1)."""
    hops, mode, rest = data[0] % 27 + 1, data[1] % 3, data[2:]
    if mode == 0:
        return verify_attribution(rest, SECRETS[:hops])[0].hmac_ok
    wrapped = wrap_attribution(SECRETS[0], 7, rest)
    verdicts = verify_attribution(wrapped, SECRETS[:hops])
    return len(verdicts) > 1 and verdicts[1].hmac_ok


def _outputs(seed: bytes, max_size: int = MAX_SIZE) -> list[bytes]:
    rng = random.Random(seed)
    mutator = _mutate_attribution.AttributionMutator(SECRETS)

    def mutate_bytes(data: bytes, size: int) -> bytes:
        return bytes(_mutate.fallback_mutate(data, size, rng))

    outs = [mutator.mutate(seed, max_size, rng, mutate_bytes) for _ in range(ROUNDS)]
    outs.append(mutator.crossover(seed, SEEDS[-1].read_bytes(), max_size, rng, mutate_bytes))
    return [o for o in outs if o is not None]


def seal(old: Sequence[int], new: Sequence[int], stale: Sequence[bool]) -> bytes:
    return bytes(_mutate_attribution.Sealer(SECRETS).chain(old, new, stale))


@pytest.mark.parametrize("packet", [b"", bytes(range(256)) + b"\x01" * 36])
@pytest.mark.parametrize("hops", [1, 2, 20, 27])
def test_the_sealer_writes_the_bytes_of_the_library_create_and_wrap(packet: bytes,
                                                                    hops: int) -> None:
    holds = [(h * 2654435761) & 0xFFFFFFFF for h in range(hops)]
    packets = [packet[: 32 + i] for i in range(hops)]
    want = create_attribution(SECRETS[hops - 1], holds[-1], packets[-1])
    for i in range(hops - 2, -1, -1):
        want = wrap_attribution(SECRETS[i], holds[i], want, packets[i])
    sealer = _mutate_attribution.Sealer(SECRETS)
    assert sealer.chain(holds, holds, [False] * hops, packets) == want
    below = sealer.chain(holds[1:], holds[1:], [False] * (hops - 1), packets[1:], first=1) \
        if hops > 1 else None
    assert below is None or wrap_attribution(SECRETS[0], holds[0], below, packets[0]) == want


@pytest.mark.parametrize("hops", [1, 5, 20, 27])
def test_a_chain_with_every_hmac_recomputed_verifies_with_its_new_hold_times(hops: int) -> None:
    old = list(range(100, 100 + hops))
    new = [(h * 2654435761) & 0xFFFFFFFF for h in range(hops)]
    data = seal(old, new, [False] * hops)
    assert reference_holds(data, SECRETS[:hops]) == new[:20]
    verdicts = verify_attribution(data, SECRETS[:hops])
    assert [(v.hold_time, v.hmac_ok) for v in verdicts] == [(h, True) for h in new[:20]]


@pytest.mark.parametrize("stale_hop", [0, 3, 4])
def test_a_stale_hop_with_a_new_hold_time_is_where_the_origin_stops(stale_hop: int) -> None:
    old = [10, 20, 30, 40, 50]
    new = [11, 20, 31, 41, 51]
    stale = [i == stale_hop for i in range(5)]
    data = seal(old, new, stale)
    assert reference_holds(data, SECRETS[:5]) == new
    verdicts = verify_attribution(data, SECRETS[:5])
    assert [v.hmac_ok for v in verdicts] == [True] * stale_hop + [False]
    assert verdicts[-1].hold_time == new[stale_hop]


def test_a_stale_hop_whose_hold_time_did_not_change_still_verifies() -> None:
    data = seal([5, 6, 7], [5, 6, 8], [True] * 3)
    assert [v.hmac_ok for v in verify_attribution(data, SECRETS[:3])] == [True, True, False]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_outputs_fit_and_the_harness_accepts_them(path: Path) -> None:
    seed = path.read_bytes()
    outs = _outputs(seed)
    opens = len(seed) >= 2 and (seed[1] % 3 == 2 or len(seed) == 922)
    assert bool(outs) == opens, "only a mode 2 input or 920 bytes of data opens"
    for out in outs:
        assert len(out) == 922 and out[1] % 3 in (0, 1)
        harness.test_one_input(out)


def test_most_outputs_pass_the_outer_check_with_new_hold_times() -> None:
    passed = changed = total = 0
    for path in SEEDS:
        seed = path.read_bytes()
        for out in _outputs(seed):
            total += 1
            passed += past_outer_check(out)
            changed += holds_of(out) != holds_of(seed)
    assert total >= 200
    assert passed * 10 >= total * 7, f"{passed} of {total} past hop 0's HMAC"
    assert changed * 10 >= total * 8, f"{changed} of {total} changed a hold time"


def test_a_sealed_output_counts_as_past_the_outer_check_and_a_flipped_byte_does_not() -> None:
    out = next(o for p in SEEDS for o in _outputs(p.read_bytes())
               if o[1] % 3 == 0 and past_outer_check(o))
    assert outer_check_tally(harness.test_one_input, [
        [out],
        [out[:2] + bytes([out[2] ^ 1]) + out[3:]],
        # sealed by the harness: a chain, or a wrap with nothing below it
        [b"\x04\x02" + bytes(20), b"\x00\x01" + bytes(920)],
        [b"\x04\x01" + out[2:]],  # data below hop 0 on a 5-hop route
    ]) == [(1, 1), (2, 1), (2, 1), (3, 1)]


def test_the_harness_installs_the_mutator_and_plain_turns_it_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    check_harness_installs_mutator(
        monkeypatch, "fuzz_attribution.py", _mutate_attribution.AttributionMutator)


def test_a_crossover_with_an_input_that_does_not_open_still_gives_a_sealed_chain() -> None:
    rng = random.Random(7)
    mutator = _mutate_attribution.AttributionMutator(SECRETS)
    outs = [mutator.crossover(p.read_bytes(), b"\x04\x00" + bytes(5), MAX_SIZE, rng,
                              lambda d, n: _mutate.fallback_mutate(d, n, rng))
            for p in SEEDS if mutator.open(p.read_bytes()) is not None]
    assert outs and all(o is not None and len(o) == 922 for o in outs)
    assert sum(past_outer_check(o) for o in outs if o is not None) * 10 >= len(outs) * 6
