"""The case-writing pieces shared by the trampoline importers: where the proposal's files come
from, payloads as the records hold them (without their BigSize length), and the `onion-build`,
`onion-peel` and `trampoline-process` cases every trampoline document is made of."""

from __future__ import annotations

from typing import Any

SCHEMA = "sphinxamp-vectors/1"
REPO, BRANCH = "lightning/bolts", "trampoline-onion"
COMMIT = "644b82f1b931a1e1dfca449f30eaf661822a85ef"
# No vector gives a current block height; any height 18 blocks below the final expiry gives
# the same answer, so one is chosen here and listed under each case's `derived`.
HEIGHT = 799000
HEIGHT_NOTE = "current_block_height (no vector gives one)"

Doc = dict[str, Any]


def unframed(text: str) -> str:
    """A payload as the official files write it (BigSize length first) without its length."""
    raw = text.replace(" ", "")
    first = int(raw[:2], 16)
    return raw[{0xFD: 6, 0xFE: 10, 0xFF: 18}.get(first, 2):]


def payload_area(onion: str) -> int:
    """The payload area of an onion packet: all but version, public key and HMAC (66 bytes)."""
    return len(onion) // 2 - 66


def proposal_source(file: str) -> Doc:
    return {"file": file, "path": f"bolt04/{file}", "repo": REPO, "branch": BRANCH,
            "commit": COMMIT, "section": "04-onion-routing.md › Trampoline Payments"}


def proposal_document(file: str, description: str, cases: list[Doc],
                      trampoline_cases: list[Doc]) -> Doc:
    """The `sphinxamp-vectors/1` document made of one of the proposal's files."""
    return {"schema": SCHEMA, "source": proposal_source(file), "description": description,
            "cases": cases, "trampoline_cases": trampoline_cases}


def onion_hops(hops: list[Doc], key: str = "node_id", payload: str = "payload") -> list[Doc]:
    """The official hops as `onion-build` hops: public key and unframed payload."""
    out = []
    for hop in hops:
        text = hop[payload]["hex"] if payload == "payload" else hop[payload]
        out.append({"pubkey": hop.get(key) or hop["pubkey"], "payload": unframed(text)})
    return out


def carrier(tlvs: Doc) -> Doc:
    """The outer payload's fields that carry a trampoline onion to a trampoline node."""
    out = {"amt_to_forward": tlvs["amt_to_forward"],
           "outgoing_cltv_value": tlvs.get("outgoing_cltv", tlvs.get("outgoing_cltv_value"))}
    if "payment_secret" in tlvs:
        out["payment_secret"] = tlvs["payment_secret"]
        out["total_msat"] = tlvs["total_amount_msat"]
    if "current_path_key" in tlvs:
        out["current_path_key"] = tlvs["current_path_key"]
    return out


def build_case(ident: str, session: str, hops: list[Doc], data: str, onion: str,
               area: int = 1300, secrets: list[str] | None = None) -> Doc:
    expect: Doc = {"onion": onion}
    if secrets is not None:
        expect["shared_secrets"] = secrets
    return {"id": ident, "kind": "onion-build", "session_key": session, "hops": hops,
            "associated_data": data, "payload_area": area, "expect": expect}


def peel_case(ident: str, key: str, data: str, onion: str, expect: Doc, area: int = 1300,
              path_key: str | None = None) -> Doc:
    case = {"id": ident, "kind": "onion-peel", "node_key": key, "associated_data": data,
            "onion": onion, "payload_area": area, "expect": expect}
    if path_key is not None:
        case["path_key"] = path_key
    return case


def process_case(ident: str, step: Doc, data: str, amount: int, cltv: int,
                 expect: Doc) -> Doc:
    """A trampoline node's processing of its onion (official `decrypt_*` step)."""
    return {"id": ident, "kind": "trampoline-process", "profile": "trampoline",
            "node_key": step["node_privkey"], "associated_data": data, "onion": step["onion"],
            "incoming_amount_msat": amount, "incoming_cltv_expiry": cltv,
            "current_block_height": HEIGHT, "derived": [HEIGHT_NOTE], "expect": expect}


def build_step(ident: str, sessions: tuple[str, str], data: str, route: list[Doc],
               trampoline_hops: list[Doc], carried: Doc, expect: Doc) -> Doc:
    """The origin builds the trampoline onion and the payment onion carrying it; `sessions`
    holds the payment onion's session key, then the trampoline onion's."""
    return {"id": ident, "kind": "trampoline-build", "profile": "trampoline",
            "session_key": sessions[0], "trampoline_session_key": sessions[1],
            "associated_data": data, "route": route, "trampoline_hops": trampoline_hops,
            "carrier": carrier(carried), "expect": expect}


def wrap_step(ident: str, session: str, data: str, route: list[Doc], node_id: str,
              carried: Doc, packet: str, onion: str) -> Doc:
    """A trampoline node puts the next trampoline onion into a payment onion of its own."""
    return {"id": ident, "kind": "trampoline-wrap", "profile": "trampoline",
            "session_key": session, "associated_data": data, "route": route,
            "trampoline_node_id": node_id, "carrier": carrier(carried), "packet": packet,
            "expect": {"onion": onion}}
