"""Plumbing shared by the harnesses: instrumentation, outcome capture, invariant helpers.

A harness imports this module first. When the process's main script is a `fuzz_*.py` and
atheris is importable, sphinxamp is imported under `atheris.instrument_imports()` here, so
every module of the package is instrumented no matter which harness runs; under pytest or the
coverage replay the same imports are plain.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeGuard

import _mutate

REPO = Path(__file__).resolve().parent.parent
if (REPO / "sphinxamp" / "__init__.py").is_file() and str(REPO) not in sys.path:
    # Run from a checkout: fuzz the working tree, not whatever copy happens to be installed.
    sys.path.insert(0, str(REPO))

try:
    import atheris
except ImportError:  # pytest, coverage replay and plain CI need no atheris
    atheris = None


def _fuzzing() -> bool:
    main = getattr(sys.modules.get("__main__"), "__file__", "") or ""
    return atheris is not None and Path(main).name.startswith("fuzz_")


@contextlib.contextmanager
def instrumented() -> Iterator[None]:
    if _fuzzing():
        with atheris.instrument_imports(include=["sphinxamp"]):
            yield
    else:
        yield


def _import_library() -> None:
    """Import every library module of the package now, inside the instrumentation block: a
    module a harness imports later would run uninstrumented and give the fuzzer no guidance.
    The CLI, the conformance tooling, the vector runner and `python -m sphinxamp` (which
    would run the CLI) are not imported."""
    import sphinxamp

    skipped = ("sphinxamp.cli", "sphinxamp.conformance", "sphinxamp.__main__")
    for info in pkgutil.walk_packages(sphinxamp.__path__, "sphinxamp."):
        if not info.name.startswith(skipped):
            importlib.import_module(info.name)


_INSTRUMENTED: set[int] = set()


def _instrument_generated() -> None:
    """The library's TLV decoders are checked in (`sphinxamp.wire._tlv_generated`) and
    instrumented with the rest of the package. A schema whose decoder is not there (a harness's
    own, tlv_typed's n1 and n2) gets it compiled at runtime, which the import hook never sees:
    instrument each of those (in place, once), or valid inputs would run code the fuzzer gets
    no coverage from. Run again from `main`, when the harness has made its own schemas."""
    if not _fuzzing():
        return
    from sphinxamp.wire import _tlv, _tlv_generated

    checked_in = _tlv_generated.__file__
    decoders: list[Any] = []
    for module in list(sys.modules.values()):
        if str(getattr(module, "__file__", "") or "").startswith(str(REPO)):
            for obj in list(vars(module).values()):
                if isinstance(obj, _tlv.TlvSchema):
                    decoders += [obj._fast, obj.fast_named]
    for fn in decoders:
        if fn.__code__.co_filename != checked_in and id(fn) not in _INSTRUMENTED:
            atheris.instrument_func(fn)
            _INSTRUMENTED.add(id(fn))


with instrumented():
    _import_library()
    _instrument_generated()
    from sphinxamp.cli._common import error_object
    from sphinxamp.errors import DecodeError, PaymentError, PolicyError
    from sphinxamp.wire._bigsize import encode_bigsize

# Per-input ceilings for tracemalloc: decoders build a few Python objects per input byte
# (records, tuples, ints), so the slope is generous; what it catches is an allocation sized by
# a length field instead of by the bytes actually present.
MEM_BASE = 64 * 1024
MEM_PER_BYTE = 256


# What the library may refuse untrusted bytes with: bytes that do not parse (DecodeError), or
# bytes that parse and break a rule (PolicyError). PaymentError judges an HTLC against an
# invoice, not bytes, so a harness that meets one has found a crash.
Refusal = DecodeError | PolicyError
REFUSALS = (DecodeError, PolicyError)


def is_refusal(exc: BaseException | None) -> TypeGuard[Refusal]:
    return isinstance(exc, REFUSALS) and not isinstance(exc, PaymentError)


class Outcome:
    """What one call did: a value, or a `Refusal` (anything else propagates as a crash)."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: Refusal | None = None) -> None:
        self.value, self.error = value, error

    @property
    def ok(self) -> bool:
        return self.error is None

    def key(self) -> tuple[Any, ...]:
        if self.error is None:
            return ("ok", self.value)
        return ("error", *error_key(self.error))


def error_key(exc: Refusal) -> tuple[Any, ...]:
    return (type(exc), exc.reason, exc.offset, exc.tlv_type, exc.failure_code, exc.field)


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    try:
        return Outcome(fn(*args, **kwargs))
    except REFUSALS as exc:
        if not is_refusal(exc):
            raise
        return Outcome(error=exc)


def check_error(exc: Refusal, size: int) -> None:
    """Every refusal must be explainable: a reason, an offset inside the input, a rendering."""
    assert exc.reason, f"{type(exc).__name__} without a reason: {exc}"
    assert exc.offset is None or 0 <= exc.offset <= size, (
        f"offset {exc.offset} outside input of {size} bytes ({exc.reason})"
    )
    str(exc)
    error_object(exc)


def check_points_at_record(exc: Refusal, data: bytes) -> None:
    """A refusal about one record (not about the stream's framing) must point at the first
    byte of that record, i.e. at its type's BigSize."""
    if exc.tlv_type is None or exc.offset is None or exc.reason == "record_omitted":
        return
    assert data[exc.offset:].startswith(encode_bigsize(exc.tlv_type)), (
        f"{exc.reason} for type {exc.tlv_type} points at offset {exc.offset}, not its record")


def bounded(size: int, fn: Callable[..., Any], *args: Any, base: int = MEM_BASE,
            per_byte: int = MEM_PER_BYTE, **kwargs: Any) -> Outcome:
    """`call`, asserting the peak of Python allocations during it stays linear in `size`.

    A replay (pytest, coverage) traces only this call: left on, tracing slows every other
    allocation of the harness (oracles, round trips) about twice over. A fuzzing process
    traces from its first call on and measures each call from a reset peak instead, because
    CPython leaks about 200 bytes for every start/stop pair that saw an allocation: millions
    of inputs would end a campaign in a false out-of-memory finding."""
    if _fuzzing():
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        out = call(fn, *args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] - before
    else:
        tracemalloc.start()
        try:
            out = call(fn, *args, **kwargs)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    limit = base + per_byte * size
    assert peak <= limit, f"{fn.__name__} peaked at {peak} bytes for {size} input bytes"
    return out


def deterministic(size: int, fn: Callable[..., Any], *args: Any, base: int = MEM_BASE,
                  per_byte: int = MEM_PER_BYTE, **kwargs: Any) -> Outcome:
    """Call twice (the first under the memory bound): both outcomes must be identical."""
    first = bounded(size, fn, *args, base=base, per_byte=per_byte, **kwargs)
    second = call(fn, *args, **kwargs)
    assert first.key() == second.key(), f"{fn.__name__} is not deterministic"
    if first.error is not None:
        check_error(first.error, size)
    return first


def main(test_one_input: Callable[[bytes], None],
         structured: _mutate.Structured | None = None) -> None:
    """atheris entry point. libFuzzer's -fork/-jobs re-execute argv[0] as a program, which a
    .py file is not, so `fuzz/run` passes an executable wrapper in SPHINXAMP_FUZZ_ARGV0.
    A layered target passes its structure-aware mutator (`_mutate`)."""
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris (or the 'fuzz' extra)")
    argv = [os.environ.get("SPHINXAMP_FUZZ_ARGV0", sys.argv[0]), *sys.argv[1:]]
    _instrument_generated()
    atheris.Setup(argv, test_one_input, **_mutate.setup_kwargs(structured))
    atheris.Fuzz()
