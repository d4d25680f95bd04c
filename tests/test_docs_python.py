"""The Python the documentation shows runs as shown, on the public surface only: each
`python` block that imports sphinxamp runs in a fresh interpreter with DeprecationWarning an
error, so a page can neither lean on a private module nor teach a name kept only for one
release (sphinxamp/_deprecated.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((path.name, line, match.group(1)))
    return found


BLOCKS = _blocks()
LIBRARY = [b for b in BLOCKS if re.search(r"^\s*(from|import) sphinxamp", b[2], re.M)]


def test_the_pages_show_library_code() -> None:
    assert len(LIBRARY) >= 6, [f"{name}:{line}" for name, line, _ in LIBRARY]


@pytest.mark.parametrize(("page", "line", "code"), BLOCKS, ids=[f"{n}:{ln}" for n, ln, _ in BLOCKS])
def test_no_block_imports_a_private_module(page: str, line: int, code: str) -> None:
    assert not re.search(r"sphinxamp(\.\w+)*\._\w+|from sphinxamp(\.\w+)* import _", code)


@pytest.mark.parametrize(("page", "line", "code"), LIBRARY,
                         ids=[f"{n}:{ln}" for n, ln, _ in LIBRARY])
def test_each_library_block_runs_without_deprecated_names(page: str, line: int, code: str,
                                                           tmp_path: Path) -> None:
    # Earlier blocks of the same page come first: a page is read top to bottom.
    before = [c for n, ln, c in LIBRARY if n == page and ln < line]
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c",
                           "\n".join([*before, code])], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
