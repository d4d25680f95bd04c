"""What every fast target checks, and how cheaply.

A fast target (`fuzz_<X>_fast.py`, beside the oracle target `fuzz_<X>.py`, on the same
corpus: `_targets.py`) makes the library call once per input and checks only:

- **totality**: the call returns, or raises one of the library's refusals of bytes
  (`_common.REFUSALS`, not a `PaymentError`). Nothing else is caught, so any other exception
  escapes to libFuzzer as a finding;
- **the refusal explains itself**: a non-empty `reason`, an `offset` inside the input (or
  none), and the exception type the parser documents;
- **re-encoding**, only when the bytes decoded: the value encodes back to exactly the input
  (schema-less streams through `write_stream`, a writer from the spec's text here, the rest
  through the library's encoders).

Not checked here (the oracle target does it, at a tenth of the speed): a second decoder
written from the spec, determinism (a second call), the CLI rendering of a refusal, and the
memory bound on every call. The memory bound runs on one input in `MEMORY_EVERY`, picked by a
CRC of the input's bytes (not by a counter), so an input that breaks it breaks it again in a
replay. Tracing is switched on for that input only: left on, tracemalloc would slow every
other allocation of the process about twice over.
"""

from __future__ import annotations

import tracemalloc
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import _common

MEMORY_EVERY = 1024


def refused(exc: _common.Refusal, size: int, kind: type[BaseException]) -> None:
    """A refusal must be one of the library's refusals of bytes, of the parser's own type,
    with a reason and an offset inside the input."""
    assert _common.is_refusal(exc), f"refused with {type(exc).__name__} ({exc})"
    assert isinstance(exc, kind), f"refused with {type(exc).__name__}, not {kind.__name__}"
    assert exc.reason, f"{type(exc).__name__} without a reason: {exc}"
    assert exc.offset is None or 0 <= exc.offset <= size, (
        f"offset {exc.offset} outside input of {size} bytes ({exc.reason})")


def write_bigsize(value: int) -> bytes:
    """BOLT 1 › Appendix A, BigSize, as the spec's table writes it. In the harness (never
    instrumented) rather than the library's encoder: under atheris the library's own encoder
    would cost as much as the decode it checks."""
    if value < 0xFD:
        return bytes((value,))
    if value < 0x10000:
        return b"\xfd" + value.to_bytes(2, "big")
    if value < 0x100000000:
        return b"\xfe" + value.to_bytes(4, "big")
    return b"\xff" + value.to_bytes(8, "big")


def write_stream(records: Iterable[Any]) -> bytes:
    """BOLT 1 › Type-Length-Value Format: each record as type ‖ length ‖ value, in the order
    given (a decoder that reordered or dropped records gives other bytes)."""
    return b"".join([write_bigsize(r.type) + write_bigsize(len(r.value)) + r.value
                     for r in records])


def sampled(data: bytes) -> bool:
    """Whether this input runs under the memory bound: one in MEMORY_EVERY, by content."""
    return zlib.crc32(data) % MEMORY_EVERY == 0


def traced(size: int, fn: Callable[[bytes], None], data: bytes,
           base: int = _common.MEM_BASE) -> None:
    """`fn(data)` with its peak of Python allocations bounded by the oracle targets' bound
    (a constant plus `_common.MEM_PER_BYTE` per byte of `size`)."""
    was_tracing = tracemalloc.is_tracing()
    if was_tracing:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
    else:
        tracemalloc.start()
        before = 0
    try:
        fn(data)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
    limit = base + _common.MEM_PER_BYTE * size
    assert peak <= limit, f"{fn.__name__} peaked at {peak} bytes for {size} input bytes"


def harness(body: Callable[[bytes], None], name: str,
            base: int = _common.MEM_BASE) -> Callable[[bytes], None]:
    """The `test_one_input` of a fast target: `body` on every input, under the memory bound
    on the sampled ones."""

    def test_one_input(data: bytes) -> None:
        if sampled(data):
            traced(len(data), body, data, base)
        else:
            body(data)

    test_one_input.__qualname__ = test_one_input.__name__ = name
    return test_one_input
