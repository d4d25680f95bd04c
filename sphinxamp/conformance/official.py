"""Official BOLT 4 vector files read as published (the `bolt` suite, and `sphinxamp vectors
check --bolt FILE`), like Core Lightning's `devtools/onion runtest`: each file becomes
conformance cases (op, request, the values the file states), which the reference
implementation must reproduce.

The files (lightning/bolts, bolt04/): onion-test, onion-error-test, route-blinding-test,
blinded-payment-onion-test, blinded-onion-message-onion-test. A file is recognised by its
structure, not its name. Where a file gives no intermediate value (onion-test gives only the
first onion), the next hop's input is the previous hop's output: the chain still has to end
in the published payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sphinxamp._json import load_json
from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.failure_chain import onion_error_cases
from sphinxamp.conformance.ops import OPS, answer
from sphinxamp.wire._bigsize import decode_bigsize

Doc = Mapping[str, Any]
SUITE = "bolt"


def _strip(framed: str) -> str:
    """A hop payload given with its BigSize length prefix, without it."""
    raw = bytes.fromhex(framed)
    _, start = decode_bigsize(raw, 0)
    return raw[start:].hex()


def _case(name: str, key: str, op: str, request: dict[str, Any], expect: dict[str, Any]) -> Case:
    return Case(f"{name}:{key}", SUITE, op, request, f"{name} {key}", OPS[op].rule, expect)


def onion_test(name: str, doc: Doc) -> list[Case]:
    gen = doc["generate"]
    hops = [{"pubkey": h["pubkey"], "payload": _strip(h["payload"])} for h in gen["hops"]]
    out = [_case(name, "generate", "onion_build",
                 {"session_key": gen["session_key"], "associated_data": gen["associated_data"],
                  "hops": hops}, {"onion": doc["onion"]})]
    onion: str | None = doc["onion"]
    for i, key in enumerate(doc["decode"]):
        if onion is None:
            break
        req = {"onion": onion, "node_key": key, "associated_data": gen["associated_data"]}
        last = i == len(doc["decode"]) - 1
        expect: dict[str, Any] = {"payload": hops[i]["payload"]}
        if last:
            expect["next_onion"] = None
        out.append(_case(name, f"decode[{i}]", "onion_peel", req, expect))
        onion = answer({"op": "onion_peel", **req}).get("next_onion")
    return out


def onion_error_test(name: str, doc: Doc) -> list[Case]:
    """Returning errors: created by hops[4], wrapped back to the origin, which must get the
    published `errorpacket` and name hops[4]."""
    def make(key: str, op: str, request: dict[str, Any], expect: dict[str, Any]) -> Case:
        return _case(name, key, op, request, expect)

    return onion_error_cases(name, doc, make)


def route_blinding_test(name: str, doc: Doc) -> list[Case]:
    runs: list[list[Mapping[str, Any]]] = []
    for hop in doc["generate"]["hops"]:
        if "session_key" in hop or not runs:
            runs.append([])
        runs[-1].append(hop)
    out = []
    for r, run in enumerate(runs):
        req = {"session_key": run[0]["session_key"],
               "hops": [{"node_id": h["node_id"], "encrypted_data": h["encoded_tlvs"]}
                        for h in run]}
        expect = {"first_path_key": run[0]["path_key"],
                  "hops": [{"blinded_node_id": h["blinded_node_id"],
                            "encrypted_recipient_data": h["encrypted_data"]} for h in run]}
        out.append(_case(name, f"generate.route[{r}]", "blinded_path_create", req, expect))
    for i, (hop, route_hop) in enumerate(zip(doc["unblind"]["hops"], doc["route"]["hops"],
                                             strict=True)):
        req = {"node_key": hop["node_privkey"], "path_key": hop["path_key"],
               "encrypted_recipient_data": route_hop["encrypted_data"]}
        expect = {"encrypted_data": hop["decrypted_data"]}
        if "next_path_key" in hop:
            expect["next_path_key"] = hop.get("next_path_key_override", hop["next_path_key"])
        out.append(_case(name, f"unblind.hops[{i}]", "blinded_hop_process", req, expect))
    return out


def blinded_payment_onion_test(name: str, doc: Doc) -> list[Case]:
    gen, hops = doc["generate"], doc["decrypt"]["hops"]
    out, path_key = [], None
    for i, hop in enumerate(hops):
        req = {"onion": hop["onion"], "node_key": hop["node_privkey"],
               "associated_data": gen["associated_data"]}
        if path_key is not None:
            req["path_key"] = path_key
        expect = {"payload": _strip(gen["full_route"]["hops"][i]["payload"]),
                  "next_onion": hops[i + 1]["onion"] if i + 1 < len(hops) else None}
        out.append(_case(name, f"decrypt.hops[{i}]", "onion_peel", req, expect))
        path_key = hop.get("next_path_key")
    return out


def blinded_onion_message_test(name: str, doc: Doc) -> list[Case]:
    hops = doc["decrypt"]["hops"]
    out = []
    for i, hop in enumerate(hops):
        nxt = hops[i + 1]["onion_message"] if i + 1 < len(hops) else None
        expect = {"next_onion_message": nxt, "next_node_id": hop.get("next_node_id")}
        out.append(_case(name, f"decrypt.hops[{i}]", "message_peel",
                         {"onion_message": hop["onion_message"], "node_key": hop["privkey"]},
                         expect))
    return out


# (recognising test, reader), in order: the first whose keys a document has reads it.
READERS: tuple[tuple[Callable[[Doc], bool], Callable[[str, Doc], list[Case]]], ...] = (
    (lambda d: "errorpacket" in d, onion_error_test),
    (lambda d: "unblind" in d, route_blinding_test),
    (lambda d: "onionmessage" in d, blinded_onion_message_test),
    (lambda d: "full_route" in d.get("generate", {}), blinded_payment_onion_test),
    (lambda d: "decode" in d and "onion" in d, onion_test),
)


def official_cases(name: str, doc: object) -> list[Case]:
    """The conformance cases of one official file (ValueError if it is none of them)."""
    if isinstance(doc, Mapping):
        for recognises, read in READERS:
            if recognises(doc):
                return read(name, doc)
    raise ValueError(f"{name}: not an official BOLT 4 vector file this reader knows")


def load_official(path: Path) -> list[Case]:
    return official_cases(path.name, load_json(path.read_text(encoding="utf-8"), path.name))
