#!/usr/bin/env python3
"""A sphinxamp conformance adapter (template) for Core Lightning's `devtools/onion`.

Needs a Core Lightning source tree built with its developer tools (`./configure && make
devtools/onion` in a checkout of github.com/ElementsProject/lightning); point CLN_ONION at
the binary:

    CLN_ONION=~/lightning/devtools/onion sphinxamp conformance run \\
        --adapter "python examples/adapters/cln_devtools_onion_adapter.py"

The tool runs once per request (it has no request loop of its own); this adapter is the
long-lived process the runner talks to. What the tool can do decides the ops:
- onion_peel: `onion --assoc-data AD decode - PRIVKEY`, the onion on stdin; it prints
  `payload=…` and, when forwarding, `next=…`; refusals are an exit status 1 whose message
  names the wire error (WIRE_INVALID_ONION_VERSION …), mapped to its code here.
- onion_build: `onion generate` always uses the session key 41…41, so only requests with that
  session key are built; the others are answered unsupported.
Everything else is unsupported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

ONION = os.environ.get("CLN_ONION", "devtools/onion")
FIXED_SESSION_KEY = "41" * 32
CODES = {"WIRE_INVALID_ONION_VERSION": 0xC004, "WIRE_INVALID_ONION_HMAC": 0xC005,
         "WIRE_INVALID_ONION_KEY": 0xC006}


def bigsize(n: int) -> bytes:
    for prefix, width, top in ((b"", 1, 0xFC), (b"\xfd", 2, 0xFFFF), (b"\xfe", 4, 0xFFFFFFFF)):
        if n <= top:
            return prefix + n.to_bytes(width, "big")
    return b"\xff" + n.to_bytes(8, "big")


def refusal(message: str) -> dict[str, Any]:
    code = next((c for name, c in CODES.items() if name in message), None)
    return {"error": {"failure_code": code, "tlv_type": None, "offset": None,
                      "message": message.strip()[:500]}}


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    proc = subprocess.run([ONION, *args], input=stdin, capture_output=True, text=True,
                          timeout=30, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def onion_peel(req: dict[str, Any]) -> dict[str, Any]:
    if req.get("payload_area", 1300) != 1300 or req.get("path_key") is not None:
        return {"unsupported": True}
    status, out, err = run(["--assoc-data", req["associated_data"], "decode", "-",
                            req["node_key"]], req["onion"] + "\n")
    if status:
        return refusal(err or out)
    fields = dict(line.split("=", 1) for line in out.split() if "=" in line)
    return {"payload": fields.get("payload", ""), "next_onion": fields.get("next")}


def onion_build(req: dict[str, Any]) -> dict[str, Any]:
    if req["session_key"] != FIXED_SESSION_KEY or req.get("payload_area", 1300) != 1300:
        return {"unsupported": True}
    hops = [f"{h['pubkey']}/{(bigsize(len(h['payload']) // 2)).hex()}{h['payload']}"
            for h in req["hops"]]
    status, out, err = run(["--assoc-data", req["associated_data"], "generate", *hops])
    if status:
        return refusal(err or out)
    return {"onion": out.split()[0]}


def handle(req: dict[str, Any]) -> dict[str, Any]:
    if req.get("op") == "hello":
        return {"protocol": "sphinxamp-conformance/1", "implementation": "cln devtools/onion",
                "ops": ["onion_build", "onion_peel"]}
    handler = {"onion_peel": onion_peel, "onion_build": onion_build}.get(req.get("op", ""))
    return {"unsupported": True} if handler is None else handler(req)


def main() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        try:
            answer = handle(req)
        except (OSError, subprocess.TimeoutExpired) as exc:
            answer = refusal(f"{type(exc).__name__}: {exc}")
        print(json.dumps({"id": req.get("id"), **answer}), flush=True)


if __name__ == "__main__":
    main()
