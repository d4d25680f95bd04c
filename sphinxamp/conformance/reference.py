"""sphinxamp itself behind the adapter protocol: `sphinxamp conformance adapter`."""

from __future__ import annotations

import json
from typing import IO, Any

from sphinxamp._json import load_json
from sphinxamp._version import __version__
from sphinxamp.conformance.judge import OPTIONAL_RECORDS
from sphinxamp.conformance.ops import answer, supported
from sphinxamp.conformance.protocol import PROTOCOL, bad_request
from sphinxamp.wire._records import TRAMPOLINE_PROFILES


def hello() -> dict[str, Any]:
    """sphinxamp's registry reads both optional records (keysend, AMP) and announces the
    feature bits of each, and reads trampoline onions in both formats."""
    bits = sorted(b for _, pair in OPTIONAL_RECORDS.values() for b in pair)
    return {"protocol": PROTOCOL, "implementation": f"sphinxamp {__version__}",
            "ops": supported(), "optional_records": sorted(OPTIONAL_RECORDS), "features": bits,
            "trampoline_formats": list(TRAMPOLINE_PROFILES)}


def handle_line(line: str, profile: str = "bolt") -> dict[str, Any]:
    """The answer to one request line (its id copied; null when the line has none)."""
    try:
        req = load_json(line, "request")
    except ValueError as exc:
        return {"id": None, **bad_request(str(exc))}
    if not isinstance(req, dict):
        return {"id": None, **bad_request("a request is a JSON object")}
    body = hello() if req.get("op") == "hello" else answer(req, profile)
    return {"id": req.get("id"), **body}


def serve(stdin: IO[str], stdout: IO[str], profile: str = "bolt") -> int:
    """Answer every request line until end of input."""
    for line in stdin:
        if not line.strip():
            continue
        stdout.write(json.dumps(handle_line(line, profile)) + "\n")
        stdout.flush()
    return 0
