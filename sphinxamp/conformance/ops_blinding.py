"""Route blinding and onion message ops (BOLT 4 › Route Blinding, › Onion Messages)."""

from __future__ import annotations

from sphinxamp.blinding._onion_message import Dropped, process_onion_message
from sphinxamp.blinding._path import create_blinded_path
from sphinxamp.blinding._unblind import check_data, unblind
from sphinxamp.conformance.protocol import Answer, Op, Request, error_answer, hexin
from sphinxamp.errors import SphinxampError


def _blinded_path_create(req: Request, profile: str) -> Answer:
    hops = [(hexin(h, "node_id"), hexin(h, "encrypted_data")) for h in req["hops"]]
    path = create_blinded_path(hexin(req, "session_key"), hops)
    return path.to_json()


def _blinded_hop_process(req: Request, profile: str) -> Answer:
    """The reader at one blinded hop: unblind, then, when the request says where the hop is
    (`final`), the payment reader rules on the data. Without `final` the op is unblinding
    alone, outside any payment (BOLT 4 › Route Blinding): a refusal has no payment failure
    code; inside a payment it is invalid_onion_blinding (BOLT 4 › Failure Messages)."""
    try:
        got = unblind(hexin(req, "node_key"), hexin(req, "path_key"),
                      hexin(req, "encrypted_recipient_data"))
    except SphinxampError as exc:
        if req.get("final") is not None:
            raise
        out = error_answer(exc)
        out["error"]["failure_code"] = None
        return out
    if req.get("final") is not None:
        check_data(got.data, final=bool(req["final"]))
    return {"encrypted_data": got.plaintext.hex(), "next_path_key": got.next_path_key.hex()}


def _message_peel(req: Request, profile: str) -> Answer:
    """An onion message is never answered with an error; a dropped one is a refusal here,
    without failure code (BOLT 4 › Onion Messages › Requirements)."""
    got = process_onion_message(hexin(req, "onion_message"), hexin(req, "node_key"))
    if isinstance(got, Dropped):
        raise SphinxampError(f"dropped: {got.reason}: {got.message}", reason=got.reason)
    nxt = got.next_message()
    return {"payload": got.raw_payload.hex(), "next_path_key": got.next_path_key.hex(),
            "next_node_id": None if got.next_node_id is None else got.next_node_id.hex(),
            "next_onion_message": None if nxt is None else nxt.to_bytes().hex(),
            "path_id": None if got.encrypted_data.path_id is None
            else got.encrypted_data.path_id.hex()}


BLINDING_OPS = (
    Op("blinded_path_create", "BOLT 4 › Route Blinding › Requirements (the creator)",
       ("first_path_key", "hops"), ("first_node_id",), run=_blinded_path_create),
    Op("blinded_hop_process", "BOLT 4 › Route Blinding › Requirements (the reader)",
       ("encrypted_data", "next_path_key"), run=_blinded_hop_process),
    Op("message_peel", "BOLT 4 › Onion Messages › Requirements (the reader)",
       ("payload", "next_onion_message"), ("next_path_key", "next_node_id", "path_id"),
       run=_message_peel),
)
