"""docs/cli.md, generated from the argparse definitions so the reference cannot drift:
`python -m sphinxamp.cli._reference` rewrites it, `--check` exits 1 when it is stale (the
test suite runs the check)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from sphinxamp.cli import build_parser

WIDTH = "100"  # help is wrapped at a fixed width, whatever the terminal
HEADER = """\
# sphinxamp command reference

Generated from the argparse definitions by `python -m sphinxamp.cli._reference`; do not edit
by hand (`tests/test_cli_reference.py` fails when this file is stale). Every hex argument
takes the hex inline (with or without `0x`, spaces or newlines), `@path` for a file holding
it, or `-` for stdin (one argument per command at most). With `--json` a command prints one
JSON object; a refusal prints the error object (`docs/schemas/error.schema.json`) and exits 1.
JSON schemas of the outputs: `docs/schemas/`.

Hops count from 0 in every command, output and error message: hop 0 is the first node after
the sender, the first `--hop` given and `hops[0]` of a route file; `hop_index` and `index` in
JSON count the same way. BOLT 4's test vectors number hops so too (`onion-error-test.json`:
"A simple error returned by node hops[4]", the last of five).
"""


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
              ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


def render_reference() -> str:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parts = [HEADER]
        for path, parser in _commands(build_parser()):
            title = " ".join(("sphinxamp", *path))
            parts.append(f"\n## `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        return "".join(parts)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs" /
                                            "cli.md"))
    opts = args.parse_args(argv)
    text, path = render_reference(), Path(opts.out)
    if opts.check:
        stale = not path.exists() or path.read_text(encoding="utf-8") != text
        if stale:
            sys.stderr.write(f"{path} is stale: run python -m sphinxamp.cli._reference\n")
        return 1 if stale else 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
