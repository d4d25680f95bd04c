"""What every vector tool does last: render its documents and write them, or (--check) say
which recorded files differ from what the official vectors give now."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def render(doc: Mapping[str, Any], *, ascii_only: bool = False) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=ascii_only) + "\n"


def write_or_check(texts: Mapping[str, str], out: Path, check: bool) -> int:
    """Write every file's text under `out`, or with `check` compare and list the stale ones."""
    stale = []
    for name, text in texts.items():
        path = out / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    for name in stale:
        print(f"differs: {name}")
    return 1 if stale else 0


def tool_main(description: str, build: Callable[[Path], Mapping[str, str]], bolts: Path,
              out: Path, argv: list[str] | None) -> int:
    """The command line shared by the importers: --bolts DIR --out DIR [--check]."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bolts", type=Path, default=bolts,
                        help="folder of the official vectors (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=out,
                        help="folder to write (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing")
    args = parser.parse_args(argv)
    return write_or_check(build(args.bolts), args.out, args.check)
