"""The README's "Route blinding and onion messages" section runs as written: its Python
blocks (a payment into a blinded path and an onion message, each to the last node) and its
command, whose output must be the official route of `route-blinding-test.json`.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The CLI as this interpreter runs it, whatever the environment is called.
ENTRY = [sys.executable, "-m", "sphinxamp"]
HEADING = "Route blinding and onion messages"
# route-blinding-test.json, Dave -> Eve: the first path key and the blinded ids.
FIRST_PATH_KEY = "031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f"
BLINDED_IDS = ["036861b366f284f0a11738ffbf7eda46241a8977592878fe3175ae1d1e4754eccf",
               "021982a48086cb8984427d3727fe35a03d396b234f0701f5249daa12e8105c8dae"]


def section() -> str:
    text = (ROOT / "docs" / "blinding.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {HEADING}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def test_python_blocks_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", section(), re.S)
    assert len(blocks) == 2
    scope: dict[str, object] = {}
    for block in blocks:  # the second block uses the first one's names
        exec(compile(block, "README.md", "exec"), scope)
    assert scope["got"].final  # type: ignore[attr-defined]


def test_command_prints_the_official_route() -> None:
    (block,) = re.findall(r"```sh\n(.*?)```", section(), re.S)
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[0] == "sphinxamp"
    done = subprocess.run([*ENTRY, *argv[1:]], capture_output=True, text=True, check=True,
                          timeout=60)
    out = json.loads(done.stdout)
    assert out["first_path_key"] == FIRST_PATH_KEY
    assert [h["blinded_node_id"] for h in out["hops"]] == BLINDED_IDS
