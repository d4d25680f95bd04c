"""Walking an explanation's field tree, as the explain tests read it."""

from __future__ import annotations

from sphinxamp.debug import Field


def walk(fields: list[Field]) -> list[Field]:
    """Every field of the tree, depth first, parents before their children."""
    out: list[Field] = []
    for f in fields:
        out.append(f)
        out += walk(f.children)
    return out
