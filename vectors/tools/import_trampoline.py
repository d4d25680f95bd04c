"""Write the trampoline vector files from the proposal's vectors and the implementations' tests.

The proposal (lightning/bolts#836, branch `trampoline-onion` at the commit below) publishes
three files under `bolt04/`: `trampoline-payment-onion-test.json`,
`trampoline-onion-error-test.json` and `trampoline-to-blinded-path-payment-onion-test.json`.
`--bolts` names the folder holding them. Each becomes a `sphinxamp-vectors/1` document:
`cases` hold what the runner's existing kinds check (`onion-build`, `onion-peel`: the trampoline
onion is a Sphinx packet with a payload area of its own size), and `trampoline_cases` hold the
trampoline steps (build, process at a trampoline node, failures wrapped twice, payloads),
which tests/test_trampoline_vectors.py runs. trampoline_proposal.py makes the payment-onion
and onion-error documents, trampoline_to_blinded_path.py the to-blinded-path one, from cases
written by _trampoline_cases.py.

The legacy format (Eclair, Electrum) has no published vector file: its document is made from
values in the implementations' tests, written in trampoline_implementations.py with the test
each comes from, where two implementations agree (Eclair's trampoline packet is also LDK's,
msgs.rs, encoding_final_onion_hop_data_with_eclair_trampoline_packet).

Every value is copied from those sources; `current_block_height`, which no vector gives, is
chosen here (any height 18 blocks below the final expiry gives the same answer) and listed
under `derived`.

Usage: python vectors/tools/import_trampoline.py --bolts DIR [--out DIR] [--check]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tool import render, tool_main
from trampoline_implementations import implementations
from trampoline_proposal import onion_error, payment_onion
from trampoline_to_blinded_path import to_blinded_path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent
DEFAULT_BOLTS = HERE.parents[2] / "shared" / "vectors" / "bolts-trampoline"

# Each recorded file, the proposal's file it is made from, and what makes it.
MAKERS: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "trampoline-payment-onion.json": ("trampoline-payment-onion-test.json", payment_onion),
    "trampoline-onion-error.json": ("trampoline-onion-error-test.json", onion_error),
    "trampoline-to-blinded-path.json":
        ("trampoline-to-blinded-path-payment-onion-test.json", to_blinded_path),
}


def build_all(bolts: Path) -> dict[str, str]:
    texts = {}
    for name, (official, make) in MAKERS.items():
        doc = json.loads((bolts / official).read_text())
        texts[name] = render(make(doc), ascii_only=True)
    texts["trampoline-implementations.json"] = render(implementations(), ascii_only=True)
    return texts


def main(argv: list[str] | None = None) -> int:
    return tool_main((__doc__ or "").splitlines()[0], build_all, DEFAULT_BOLTS, DEFAULT_OUT,
                     argv)


if __name__ == "__main__":
    raise SystemExit(main())
