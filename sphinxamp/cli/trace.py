"""`sphinxamp trace ROUTE.json`: build the onion of a described route, process it at every
hop, optionally fail at hop K and carry the failure back, and tell the story."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sphinxamp import HopPayload, Trace, trace_route
from sphinxamp.cli import _render as render
from sphinxamp.cli._common import Subparsers, emit_json, error_object, read_text
from sphinxamp.cli._options import add_json_flag, int_in
from sphinxamp.cli._route_file import FORMAT, parse_route
from sphinxamp.cli._trace_messages import links_json, links_lines
from sphinxamp.cli._trampoline_render import trampoline_json, trampoline_lines
from sphinxamp.debug import HopStory
from sphinxamp.failures import failure_code_name, resolve_code
from sphinxamp.payments import TrampolineHop, trampoline_format

DESCRIPTION = f"""\
Tell a route's story from a route description (JSON, format {FORMAT}; see
docs/schemas/route.schema.json and examples/): the onion is built, every hop processes what
it receives with process_hop (its role, payload, shared secret, blinded data and what it
forwards), and with --fail-at K the hop K (0 = first) fails the HTLC with --code: its
return packet and attribution data, each upstream hop's wrapping, and the origin's reading
(the erring hop, the message, every hop's hold time and HMAC verdict).

--json prints {{"onion", "session_key", "session_key_drawn", "shared_secrets", "hops": [{{
"index", "node_id", "onion_sha256", "path_key", "role", "introduction_node",
"shared_secret", "payload", "encrypted_data", "amt_to_forward", "outgoing_cltv_value",
"next_path_key", "forwards", "refusal"}}], "failure": null | {{"failure_code",
"failure_name", "steps": [{{"hop_index", "action", "packet", "attribution_data"}}],
"origin": {{"hop_index", "failure_code", "failure_name", "fields", "attribution"}}}},
"notes"}}; with --messages also "links": [{{"index", "messages": [{{"direction", "type",
"name", "hex", and the message's decoded fields}}]}}] (link i carries the HTLC to hop i).
"""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("trace", help="a route's whole story, hop by hop",
                                   description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("route", metavar="ROUTE.json", help="route description (- stdin)")
    parser.add_argument("--fail-at", type=int_in(0, 65535), metavar="K",
                        help="hop K (0 = first; 0 to 65535, and below the route's number of "
                        "hops) fails the HTLC instead of passing it on")
    parser.add_argument("--code", default="temporary_node_failure", metavar="NAME",
                        help="the failure code, by spec name or number (default "
                        "temporary_node_failure)")
    parser.add_argument("--messages", action="store_true",
                        help="also the BOLT 2 messages on every link: each update_add_htlc "
                        "forwarded and the update_fail_htlc, update_fail_malformed_htlc or "
                        "update_fulfill_htlc coming back (hex and decoded fields)")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _outer_payload(payload: HopPayload, tramp: TrampolineHop | None) -> dict[str, Any] | None:
    """The payload's fields; a trampoline node's names its trampoline onion for what it is
    (HopPayload keeps it as a record of no BOLT 4 type)."""
    out = render.payload_fields(payload)
    if tramp is None or out is None:
        return out
    onion_type = trampoline_format(tramp.profile).onion_type
    rest = [r for r in out.get("unknown_records", []) if r.get("type") != onion_type]
    out = {k: v for k, v in out.items() if k != "unknown_records"}
    if rest:
        out["unknown_records"] = rest
    out["trampoline_onion_packet"] = tramp.packet.to_bytes().hex()
    return out


def hop_json(story: HopStory, trace_legs: bool = False) -> dict[str, Any]:
    done = story.processed
    out: dict[str, Any] = {"index": story.index, "node_id": story.node_id.hex(),
                           "onion_sha256": story.onion_sha256.hex(),
                           "path_key": _hex(story.path_key)}
    if trace_legs:
        out["leg"] = story.leg
        out["trampoline"] = trampoline_json(done.trampoline) if done is not None else None
    if done is None:
        assert story.refusal is not None
        return {**out, "role": None, "refusal": error_object(story.refusal)}
    return {**out, "role": done.role.value, "introduction_node": done.introduction_node,
            "shared_secret": done.shared_secret.hex(),
            "payload": _outer_payload(done.payload, done.trampoline),
            "encrypted_data": None if done.encrypted_data is None else
            done.encrypted_data.to_json(),
            "amt_to_forward": done.amt_to_forward, "outgoing_cltv_value":
            done.outgoing_cltv_value, "next_path_key": _hex(done.next_path_key),
            "forwards": story.forwards, "refusal": None}


def trace_json(trace: Trace, session_key: bytes, drawn: bool) -> dict[str, Any]:
    failure = None
    if trace.failure_code is not None and trace.origin is not None:
        origin = trace.origin
        msg = origin.message
        failure = {
            "failure_code": trace.failure_code,
            "failure_name": failure_code_name(trace.failure_code),
            "steps": [{"hop_index": s.hop_index, "action": s.action, "packet": s.packet.hex(),
                       "attribution_data": _hex(s.attribution_data)} for s in trace.steps],
            "origin": {
                "hop_index": origin.hop_index,
                "failure_code": None if msg is None else msg.code,
                "failure_name": None if msg is None else msg.name,
                "fields": None if msg is None else {
                    k: render.jsonable(v) for k, v in msg.fields.items()},
                "attribution": None if origin.attribution is None else [
                    {"hop_index": h.hop_index, "hold_time_ms": h.hold_time_ms,
                     "hmac_ok": h.hmac_ok} for h in origin.attribution]}}
    return {"onion": trace.onion.hex(), "session_key": session_key.hex(),
            "session_key_drawn": drawn, "shared_secrets": [s.hex() for s in trace.shared_secrets],
            "hops": [hop_json(s, bool(trace.legs)) for s in trace.hops], "failure": failure,
            "notes": list(trace.notes), **legs_json(trace)}


def legs_json(trace: Trace) -> dict[str, Any]:
    """A trampoline payment's payment onions: the sender's, then each trampoline node's."""
    if not trace.legs:
        return {}
    return {"legs": [{"index": leg.index, "first_hop": leg.first_hop,
                      "onion_sha256": leg.onion_sha256.hex(),
                      "shared_secrets": [s.hex() for s in leg.shared_secrets]}
                     for leg in trace.legs]}


def _hop_lines(h: dict[str, Any]) -> list[str]:
    head = f"hop {h['index']}  node {h['node_id'][:16]}…  receives onion sha256 " \
           f"{h['onion_sha256'][:16]}…"
    if h["refusal"] is not None:
        err = h["refusal"]
        return [head, f"    refuses: {err['failure_name'] or err['error']}: {err['message']}"]
    intro = ", introduction node" if h["introduction_node"] else ""
    lines = [head, f"    role {h['role']}{intro}, shared_secret {h['shared_secret']}"]
    lines += [f"    {k} = {render.human_value(v)}" if k != "trampoline_onion_packet" else
              f"    {k} = {len(v) // 2} bytes, {v[:32]}…" for k, v in (h["payload"] or {}).items()]
    if h["encrypted_data"] is not None:
        lines.append(f"    encrypted_data = {render.human_value(h['encrypted_data'])}")
    for key in ("amt_to_forward", "outgoing_cltv_value", "next_path_key"):
        if h[key] is not None:
            lines.append(f"    derived {key} = {h[key]}")
    if h.get("trampoline") is not None:
        return lines + trampoline_lines(h["trampoline"])
    lines.append("    forwards the peeled onion" if h["forwards"] else "    final: the payment "
                 "is for this node")
    return lines


def _failure_lines(f: dict[str, Any]) -> list[str]:
    lines = ["", f"failure {f['failure_name'] or hex(f['failure_code'])} "
             f"(0x{f['failure_code']:04x}) on the way back:"]
    for s in f["steps"]:
        what = {"create": "creates the return packet", "wrap": "adds its ammag layer",
                "malformed": "answers update_fail_malformed_htlc (sha256_of_onion)"}[s["action"]]
        attr = " and attribution data" if s["attribution_data"] else ""
        lines.append(f"  hop {s['hop_index']} {what}{attr}: {s['packet'][:32]}…")
    o = f["origin"]
    lines.append(f"origin: erring hop {o['hop_index']}, {o['failure_name']} "
                 f"{render.human_value(o['fields'])}")
    for a in o["attribution"] or []:
        verdict = "HMAC ok" if a["hmac_ok"] else "HMAC BAD"
        lines.append(f"  hop {a['hop_index']}: held {a['hold_time_ms']} ms, {verdict}")
    return lines


def failure_code(text: str) -> int:
    """--code: a failure code by its spec name or by number (decimal or 0x hex)."""
    if not text.isidentifier():
        try:
            return resolve_code(int(text, 0))
        except ValueError:
            pass  # not a number either: named in resolve_code's error
    return resolve_code(text)


def run(args: argparse.Namespace) -> int:
    source = args.route if args.route == "-" or args.route.startswith("@") else "@" + args.route
    spec, drawn = parse_route(read_text(source, "route"))
    code = None if args.fail_at is None else failure_code(args.code)
    trace = trace_route(spec, fail_at=args.fail_at, code=code, messages=args.messages)
    out = trace_json(trace, spec.session_key, drawn)
    if args.messages:
        out["links"] = links_json(trace)
    if args.json:
        emit_json(out)
        return 0
    # The onion is built over the whole route; "hops" stops at the hop that fails or refuses.
    lines = [f"onion: {len(trace.onion)} bytes over {len(trace.shared_secrets)} hops"
             + (f", session key drawn at random: {out['session_key']}" if drawn else "")]
    starts = {leg["first_hop"]: leg for leg in out.get("legs", [])[1:]}
    for h in out["hops"]:
        if h["index"] in starts:
            lines.append(f"trampoline node builds payment onion {starts[h['index']]['index']} "
                         f"(sha256 {starts[h['index']]['onion_sha256'][:16]}…)")
        lines += _hop_lines(h)
    if out["failure"] is not None:
        lines += _failure_lines(out["failure"])
    if args.messages:
        lines += links_lines(out["links"])
    lines += [f"note: {n}" for n in out["notes"]]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
