"""Failure message ops (BOLT 4 › Returning Errors): the erring node's packet, each node's
layer on the way back, and the origin's decryption naming the erring hop."""

from __future__ import annotations

from sphinxamp.conformance.protocol import Answer, Op, Request, hexin
from sphinxamp.errors import SphinxampError
from sphinxamp.failures._packet import PAD_TO, create_failure, decrypt_failure, wrap_failure

_RULE = "BOLT 4 › Returning Errors"


def _failure_create(req: Request, profile: str) -> Answer:
    reply = create_failure(hexin(req, "shared_secret"), hexin(req, "failure_message"),
                           attribution=False, pad_to=int(req.get("pad_to", PAD_TO)))
    return {"packet": reply.packet.hex()}


def _failure_wrap(req: Request, profile: str) -> Answer:
    reply = wrap_failure(hexin(req, "shared_secret"), hexin(req, "packet"), attribution=False)
    return {"packet": reply.packet.hex()}


def _failure_decrypt(req: Request, profile: str) -> Answer:
    """An unattributable packet (no hop's HMAC verifies) is a refusal without code."""
    secrets = [bytes.fromhex(s) for s in req["shared_secrets"]]
    got = decrypt_failure(hexin(req, "packet"), secrets)
    if got.hop_index is None or got.failure_message is None:
        raise SphinxampError("no hop's HMAC verifies: the failure is unattributable",
                             reason="unattributable")
    return {"origin_index": got.hop_index, "failure_message": got.failure_message.hex(),
            "failure_code": got.failure_code}


FAILURE_OPS = (
    Op("failure_create", _RULE + " (the erring node)", ("packet",), run=_failure_create),
    Op("failure_wrap", _RULE + " (an intermediate node)", ("packet",), run=_failure_wrap),
    Op("failure_decrypt", _RULE + " (the origin node)", ("origin_index", "failure_message"),
       ("failure_code",), run=_failure_decrypt),
)
