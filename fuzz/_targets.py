#!/usr/bin/env python3
"""Which seed corpus and dictionary a fuzz target uses: the one place that says so.

Most parsers have two targets. The oracle target `X` (`fuzz_X.py`) checks everything it can
(spec-literal second decoders, determinism, a memory bound on every call) and runs at a few
thousand inputs per second; the fast target `X_fast` (`fuzz_X_fast.py`) fuzzes the same
parser with cheap checks only, so the same CPU time tries ten times more inputs. Both read
the same bytes, so the fast target has no corpus or dictionary of its own: it uses
`corpus/X/` and `dict/X.dict`, and the options (`max_len`) of X. The runner, the seed
generator, the corpus replay in the tests, the OSS-Fuzz build and the throughput benchmark
all ask `corpus_of`.

Standard library only: `.clusterfuzzlite/build.sh` runs `python3 fuzz/_targets.py TARGET`
(prints the corpus name) before the package is importable.
"""

from __future__ import annotations

import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
FAST_SUFFIX = "_fast"


def harnesses() -> list[str]:
    """Every target with a harness file, oracle and fast alike."""
    return sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py"))


def oracle_of(target: str) -> str | None:
    """The oracle target a fast target fuzzes beside, or None for a target that is not a fast
    one (an oracle target, or a target with only one kind). Its corpus is enough to tell:
    a build of selected targets (`check-oss-fuzz-build --target X_fast`) leaves the other
    harnesses out, never the corpora."""
    if not target.endswith(FAST_SUFFIX):
        return None
    base = target.removesuffix(FAST_SUFFIX)
    known = (FUZZ / f"fuzz_{base}.py").is_file() or (FUZZ / "corpus" / base).is_dir()
    return base if known else None


def corpus_of(target: str) -> str:
    """The name of the corpus directory (`corpus/<name>/`), dictionary (`dict/<name>.dict`)
    and options a target uses: its oracle's for a fast target, its own otherwise."""
    return oracle_of(target) or target


def fast_targets() -> list[str]:
    return [t for t in harnesses() if oracle_of(t) is not None]


def corpora() -> list[str]:
    """The targets that own a corpus directory: every harness but the fast ones."""
    return sorted({corpus_of(t) for t in harnesses()})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: fuzz/_targets.py TARGET   (prints the corpus the target uses)")
    print(corpus_of(sys.argv[1]))
