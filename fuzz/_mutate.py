"""Structure-aware mutation: what every layered target's mutator plugs into.

Most byte mutations of a sealed input die at the outer check (an HMAC, a Poly1305 tag, a
failure packet's HMAC), so the parsers behind it see only the seeds. A `Structured` mutator
opens the layer with keys the input or the harness holds, mutates the plaintext or the fields
inside with libFuzzer's own byte mutator (`atheris.Mutate`), and seals it again, so the result
passes the outer check and the mutation reaches the inner parser.

One mutation in `PLAIN_SHARE` stays a plain byte mutation of the whole input, and so does
every input the structured mutator cannot open, so the outer checks themselves stay fuzzed.

`SPHINXAMP_FUZZ_MUTATOR=plain` turns the structured mutator off (for `fuzz/run
--compare-mutators`, which runs both for the same time). `SPHINXAMP_FUZZ_DEPTH=FILE` makes the
harness write, every few seconds, how many inputs it judged and how many got past the outer
check (`depth`), as JSON.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

try:
    import atheris
except ImportError:  # tests and replays mutate with the fallback below
    atheris = None

PLAIN_SHARE = 10
MUTATOR_ENV = "SPHINXAMP_FUZZ_MUTATOR"
DEPTH_ENV = "SPHINXAMP_FUZZ_DEPTH"


class Structured(Protocol):
    """A layer's mutator. Both methods return None when the input does not open as the layer
    (then a plain byte mutation is used instead). `mutate_bytes` is libFuzzer's mutator while
    fuzzing, `fallback_mutate` otherwise."""

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: Callable[[bytes, int], bytes]) -> bytes | None: ...

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: Callable[[bytes, int], bytes]) -> bytes | None: ...


def fallback_mutate(data: bytes, max_size: int, rng: random.Random | None = None) -> bytes:
    """A small byte mutator for runs without libFuzzer (tests, replays): flip, set, insert
    or delete a few bytes, never longer than `max_size`."""
    rng = rng or random.Random(len(data))
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        if op == 0 and out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        elif op == 1 and out:
            out[rng.randrange(len(out))] = rng.choice((0, 1, 0x7F, 0x80, 0xFD, 0xFE, 0xFF))
        elif op == 2 and len(out) < max_size:
            out.insert(rng.randrange(len(out) + 1), rng.randrange(256))
        elif out:
            del out[rng.randrange(len(out))]
    return bytes(out[:max_size])


def byte_mutator() -> Callable[[bytes, int], bytes]:
    """libFuzzer's byte mutator when it runs this process, else `fallback_mutate`."""
    if atheris is not None and _libfuzzer_running():
        return atheris.Mutate  # type: ignore[no-any-return]
    rng = random.Random(0)
    return lambda data, max_size: fallback_mutate(data, max_size, rng)


_RUNNING = False


def _libfuzzer_running() -> bool:
    return _RUNNING


def structured_enabled() -> bool:
    return os.environ.get(MUTATOR_ENV, "structured") != "plain"


def setup_kwargs(structured: Structured | None) -> dict[str, Any]:
    """The `atheris.Setup` keyword arguments that install `structured` (none when it is off)."""
    global _RUNNING
    _RUNNING = True
    if structured is None or not structured_enabled():
        return {}

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        mutate_bytes = byte_mutator()
        if rng.randrange(PLAIN_SHARE):
            out = structured.mutate(data, max_size, rng, mutate_bytes)
            if out is not None and len(out) <= max_size:
                return out
        return mutate_bytes(data, max_size)

    def custom_crossover(first: bytes, second: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        out = structured.crossover(first, second, max_size, rng, byte_mutator())
        if out is not None and len(out) <= max_size:
            return out
        cut = rng.randint(0, len(first))
        return (first[:cut] + second[rng.randint(0, len(second)):])[:max_size]

    return {"custom_mutator": custom_mutator, "custom_crossover": custom_crossover}


class _Depth:
    """Counts of the inputs a harness judged and of those past its outer check, written to
    `SPHINXAMP_FUZZ_DEPTH` every few seconds (libFuzzer ends a process without running
    Python's exit handlers, so a final write cannot be relied on)."""

    def __init__(self) -> None:
        self.path = os.environ.get(DEPTH_ENV)
        self.judged = 0
        self.passed = 0
        self.last = time.monotonic()
        if self.path:
            atexit.register(self.write)

    def count(self, passed: bool) -> None:
        self.judged += 1
        self.passed += passed
        if self.path and not self.judged & 0xFF and time.monotonic() - self.last > 2:
            self.write()

    def write(self) -> None:
        # A process that judged nothing (the runner itself, which imports a harness's
        # helpers to check an adapter) must not overwrite a worker's counts at its exit.
        if not self.path or not self.judged:
            return
        self.last = time.monotonic()
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump({"judged": self.judged, "passed_outer": self.passed}, out)
        os.replace(tmp, self.path)


_DEPTH = _Depth()


def depth(passed: bool) -> None:
    """Called by a layered harness once per input it judges: whether the input got past the
    outer check (HMAC, tag) to the inner parser."""
    _DEPTH.count(passed)
