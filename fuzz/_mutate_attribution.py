"""Structure-aware mutation of attribution data (BOLT 4 › Returning Errors ›
`attribution_data`): read every hop's hold time as the origin reads it, mutate the hold times,
and seal a chain again, recomputing the HMACs of all, some or none of the hops.

A byte mutation of the 920 bytes almost never keeps hop 0's truncated HMAC, so the origin's
check stops at hop 0 and the hop-by-hop reading behind it (un-shifting, the later hops' HMACs,
the hold times) runs only for the seeds. Here a hop whose HMACs are "recomputed" writes them
over the hold time it reports; a "stale" hop wrote them over its previous hold time, so the
origin's check stops there exactly when that hop's hold time changed.

The `attribution` harness's input: byte 0 picks the route length (1–27), byte 1 the mode;
then the data as the origin receives it (mode 0), the data hop 0 receives from downstream and
wraps (mode 1), or hold times (mode 2, sealed by the harness itself).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

MutateBytes = Callable[[bytes, int], bytes]
DATA_SIZE = 920  # 20 hold times ‖ 210 truncated HMACs
ATTRIBUTABLE = 20  # the data has slots for the 20 hops nearest the origin
HOLD_TIMES_SIZE = 4 * ATTRIBUTABLE
ROUTE_MAX = 27  # BOLT 4 › Origin node: a route may have 27 hops
WRAP_HOLD = 7  # what the harness's hop 0 reports in mode 1
INTERESTING_HOLDS = (0, 1, 0xFF, 0x100, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def derive(key_type: bytes, secret: bytes) -> bytes:
    """BOLT 4 › Key Generation: HMAC256(ASCII key type, shared secret). The mutators compute
    with `hmac` and pyca/cryptography, not the library: the library is instrumented, and a
    mutator's calls would cost the instrumentation's time for no coverage."""
    return hmac.digest(key_type, secret, "sha256")


def chacha20(key: bytes, data: bytes) -> bytes:
    """`data` XOR ChaCha20 with a zero nonce (BOLT 4 › Pseudo Random Byte Stream)."""
    return Cipher(algorithms.ChaCha20(key, bytes(16)), None).encryptor().update(data)


def pick_stale(hops: int, rng: random.Random) -> list[bool]:
    """Which hops leave their HMACs stale: none (half the time), some, or all."""
    choice = rng.randrange(6)
    if choice < 3:
        return [False] * hops
    if choice < 5:
        return [rng.randrange(3) == 0 for _ in range(hops)]
    return [True] * hops


def mutate_holds(holds: Sequence[int], rng: random.Random,
                 mutate_bytes: MutateBytes) -> list[int]:
    """The u32 hold times as one byte string through the byte mutator (kept at its length),
    or one hold time set to a boundary value."""
    if not holds:
        return []
    if rng.randrange(4) == 0:
        out = list(holds)
        out[rng.randrange(len(out))] = rng.choice(INTERESTING_HOLDS)
        return out
    raw = b"".join(h.to_bytes(4, "big") for h in holds)
    new = mutate_bytes(raw, len(raw)).ljust(len(raw), b"\0")[: len(raw)]
    return [int.from_bytes(new[i : i + 4], "big") for i in range(0, len(new), 4)]


def _at(x: int, y: int) -> int:
    """Offset of the HMAC node `x` hops downstream wrote for distance `y` (blocks of 20 − x
    entries, largest y first; BOLT 4 › Returning Errors › attribution_data)."""
    return HOLD_TIMES_SIZE + 4 * (ATTRIBUTABLE * x - x * (x - 1) // 2 + ATTRIBUTABLE - 1 - x - y)


_OWN = tuple(_at(0, y) for y in range(ATTRIBUTABLE))
# hmac_0_y covers hold times 0..y and the HMAC of every node x = 1..y downstream for y − x:
# the indices of those bytes (gathered with one `bytes(map(...))`: a fuzzing process traces
# every allocation for the harness's memory bound, and a slice per HMAC doubles the cost).
_COVERED = tuple((*range(4 * (y + 1)),
                  *(at + k for x in range(1, y + 1) for at in (_at(x, y - x),) for k in range(4)))
                 for y in range(ATTRIBUTABLE))
# A wrap moves block x, less its largest-y entry, to block x + 1: (source, target, size).
_SHIFT = tuple((_at(x, ATTRIBUTABLE - 1 - x) + 4, _at(x + 1, ATTRIBUTABLE - 2 - x),
                4 * (ATTRIBUTABLE - 1 - x)) for x in range(ATTRIBUTABLE - 1))


class Sealer:
    """The attribution data a hop sends upstream (BOLT 4 › Initialization of
    `attribution_data`, › Intermediate nodes), written here rather than by the library's
    `create_attribution`/`wrap_attribution` (see `derive`): under instrumentation a chain of
    27 wraps would cost more than the input it seals. tests/test_fuzz_mutators_attribution
    holds the two to the same bytes."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self.um = [derive(b"um", s) for s in secrets]
        self.streams = [int.from_bytes(chacha20(derive(b"ammagext", s), bytes(DATA_SIZE)),
                                       "big") for s in secrets]

    def hop(self, index: int, hold: int, received: bytes | None, packet: bytes) -> bytes:
        data = bytearray(DATA_SIZE)
        data[0:4] = hold.to_bytes(4, "big")
        if received is not None:
            data[4:HOLD_TIMES_SIZE] = received[: HOLD_TIMES_SIZE - 4]
            for src, dst, size in _SHIFT:
                data[dst : dst + size] = received[src : src + size]
        start, byte = hmac.new(self.um[index], packet, hashlib.sha256), data.__getitem__
        for y in range(ATTRIBUTABLE):
            mac = start.copy()
            mac.update(bytes(map(byte, _COVERED[y])))
            data[_OWN[y] : _OWN[y] + 4] = mac.digest()[:4]
        return (int.from_bytes(data, "big") ^ self.streams[index]).to_bytes(DATA_SIZE, "big")

    def chain(self, old: Sequence[int], new: Sequence[int], stale: Sequence[bool],
              packets: Sequence[bytes] | None = None, first: int = 0) -> bytes:
        """The data hop `first` sends upstream on a route of hops `first`, `first` + 1, …:
        the last creates it, every hop above wraps it. Hop i reports `new[i]`; a stale hop
        computed its HMACs over `old[i]` (the ChaCha20 layer is a XOR, so changing the hold
        time after the fact is a XOR of the difference). `packets[i]` is the return packet as
        hop i holds it before its own `ammag` layer; None on success (fulfill)."""
        data: bytes | None = None
        for i in range(len(new) - 1, -1, -1):
            packet = b"" if packets is None else packets[i]
            data = self.hop(first + i, old[i] if stale[i] else new[i], data, packet)
            if stale[i] and old[i] != new[i]:
                delta = (old[i] ^ new[i]).to_bytes(4, "big")
                data = bytes(a ^ b for a, b in zip(delta, data[:4], strict=True)) + data[4:]
        assert data is not None, "a chain has at least one hop"
        return data


def read_holds(data: bytes, streams: Sequence[bytes], hops: int) -> list[int]:
    """Every hop's hold time as the origin reads it (BOLT 4 › Origin node: hop i's view is
    the data under the `ammagext` streams of hops 0…i, each view shifted by one hold time),
    whatever the HMACs say; zero past the 20 attributable hops. `streams[i]` is the first 80
    bytes of hop i's stream. Only the hold times are read, so no HMAC is computed."""
    region, holds = data[:HOLD_TIMES_SIZE], []
    for stream in streams[: min(hops, ATTRIBUTABLE)]:
        mine = bytes(a ^ b for a, b in zip(region, stream, strict=True))
        holds.append(int.from_bytes(mine[:4], "big"))
        region = mine[4:] + bytes(4)
    return (holds + [0] * hops)[:hops]


@dataclass(frozen=True, slots=True)
class Chain:
    """An `attribution` input opened: route length, mode and the hold time of every hop."""

    hops: int
    mode: int
    holds: tuple[int, ...]


class AttributionMutator:
    """`_mutate.Structured` for the `attribution` harness with route secrets `secrets`."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self.secrets = [bytes(s) for s in secrets]
        self.streams = [chacha20(derive(b"ammagext", s), bytes(HOLD_TIMES_SIZE))
                        for s in self.secrets]
        self.sealer = Sealer(self.secrets)

    def open(self, data: bytes) -> Chain | None:
        if len(data) < 2:
            return None
        hops, mode, rest = data[0] % len(self.secrets) + 1, data[1] % 3, data[2:]
        if mode == 2:
            raw = rest[: 4 * hops].ljust(4 * hops, b"\0")
            return Chain(hops, 2, tuple(int.from_bytes(raw[i : i + 4], "big")
                                        for i in range(0, 4 * hops, 4)))
        if len(rest) != DATA_SIZE:
            return None
        if mode == 0:
            return Chain(hops, 0, tuple(read_holds(rest, self.streams, hops)))
        below = read_holds(rest, self.streams[1:], hops - 1)  # hop 0 is the harness's wrap
        return Chain(hops, 1, (WRAP_HOLD, *below))

    def seal(self, chain: Chain, old: Sequence[int], stale: Sequence[bool]) -> bytes | None:
        """The input for `chain`: mode 0 carries the whole chain, mode 1 the chain below hop
        0 (hop 0 is the harness's wrap, so a one-hop route has nothing to seal)."""
        first = 0 if chain.mode == 0 else 1
        if first >= chain.hops:
            return None
        data = self.sealer.chain(old[first:], chain.holds[first:], stale[first:], first=first)
        return bytes((chain.hops - 1, chain.mode)) + data

    def _reshape(self, chain: Chain, rng: random.Random) -> Chain:
        """Sometimes another route length or mode; a mode 2 input (hold times the harness
        seals itself) is sealed here as mode 0 or 1; mode 1 needs a hop below hop 0."""
        hops, mode = chain.hops, chain.mode
        if rng.randrange(8) == 0:
            hops = rng.randint(1, len(self.secrets))
        if mode == 2 or rng.randrange(8) == 0:
            mode = rng.randrange(2)
        if hops == 1:
            mode = 0
        holds = (chain.holds + (0,) * hops)[:hops]
        return Chain(hops, mode, holds)

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: MutateBytes) -> bytes | None:
        chain = self.open(data)
        if chain is None or max_size < 2 + DATA_SIZE:
            return None
        shaped = self._reshape(chain, rng)
        holds = tuple(mutate_holds(shaped.holds, rng, mutate_bytes))
        return self.seal(Chain(shaped.hops, shaped.mode, holds), shaped.holds,
                         pick_stale(shaped.hops, rng))

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: MutateBytes) -> bytes | None:
        """The first input's route and mode with the hold times of the second from a hop on;
        when the second does not open, a mutation of the first (libFuzzer stacks crossovers
        and mutations: a plain splice would break the seal for every step after it)."""
        a, b = self.open(first), self.open(second)
        if a is None or max_size < 2 + DATA_SIZE:
            return None
        if b is None:
            return self.mutate(first, max_size, rng, mutate_bytes)
        shaped = self._reshape(a, rng)
        cut = rng.randint(0, shaped.hops)
        holds = shaped.holds[:cut] + (b.holds + (0,) * shaped.hops)[cut : shaped.hops]
        return self.seal(Chain(shaped.hops, shaped.mode, holds), shaped.holds,
                         pick_stale(shaped.hops, rng))
