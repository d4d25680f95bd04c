"""`sphinxamp fuzz corpus`: onions whose HMAC verifies for one node, carrying mutated
payloads (valid, boundary and malformed), one file per input.

A fuzzer that mutates whole onions almost never gets past the HMAC (BOLT 4 › Onion
Decryption step 5), so the payload parser behind it stays unreached. These seeds are sealed
for the target node's key and associated data: every one reaches its payload reader.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

from sphinxamp.conformance.generate import payload_records, secret, tlv_bytes
from sphinxamp.conformance.malformed import malformed_cases, seal
from sphinxamp.onion._sphinx import HMAC_SIZE, PAYMENT_PAYLOAD_AREA, build_onion
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._bigsize import encode_bigsize
from sphinxamp.wire._records import Role

FORMATS = ("raw", "go")
Maker = Callable[[random.Random], tuple[str, bytes, bool]]  # (kind, payload, framed already)


def _valid(rng: random.Random) -> tuple[str, bytes, bool]:
    role = rng.choice((Role.INTERMEDIATE, Role.FINAL))
    pad = rng.choice((0, 5, 60, 300))
    return f"valid-{role.value}", tlv_bytes(payload_records(rng, role, pad=pad)), False


def _boundary(rng: random.Random) -> tuple[str, bytes, bool]:
    """Payload lengths at the BigSize steps and at the ends of the routing area."""
    most = PAYMENT_PAYLOAD_AREA - HMAC_SIZE - 3
    length = rng.choice((2, 3, 252, 253, 254, most - 1, most))
    body = length - 2 if length - 2 < 253 else length - 4
    records = [(1, rng.randbytes(body))] if length > 2 else [(1, b"")]
    payload = tlv_bytes(records)
    return f"boundary-{len(payload)}", payload, False


def _mutated(rng: random.Random) -> tuple[str, bytes, bool]:
    """A valid payload with bytes flipped, cut or inserted: mostly malformed TLV."""
    payload = bytearray(_valid(rng)[1])
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(payload))
        how = rng.randrange(3)
        if how == 0:
            payload[at] ^= 1 << rng.randrange(8)
        elif how == 1 and len(payload) > 2:
            del payload[at]
        else:
            payload.insert(at, rng.choice((0x00, 0xFD, 0xFE, 0xFF, rng.randrange(256))))
    return "mutated", bytes(payload), False


def _rules(rng: random.Random) -> tuple[str, bytes, bool]:
    """A payload breaking one BOLT 4 payload rule (the malformed suite's)."""
    cases = [c for c in malformed_cases(rng.randrange(1 << 30)) if c.op == "payload_decode"]
    case = rng.choice(cases)
    payload = bytes.fromhex(case.request["payload"])
    if len(payload) < 2:  # a frame below the minimum is _framing's business
        payload = b"\x01\x00"
    return "rule-" + case.id.rsplit(":", 1)[-1], payload, False


def _framing(rng: random.Random) -> tuple[str, bytes, bool]:
    """The frame itself malformed: a length below 2, not minimal, or past the area."""
    stream = tlv_bytes(payload_records(rng, Role.FINAL))
    kind, frame = rng.choice((
        ("length-0", b"\x00"), ("length-1", b"\x01\x00"),
        ("length-not-minimal", b"\xfd\x00" + bytes((len(stream),)) + stream),
        ("past-area", encode_bigsize(PAYMENT_PAYLOAD_AREA) + stream)))
    return f"frame-{kind}", frame, True


MAKERS: tuple[Maker, ...] = (_valid, _valid, _boundary, _mutated, _mutated, _rules, _framing)


_NEXT_PAYLOAD = b"\x02\x01\x01"


def _fits(*payloads: bytes) -> bool:
    """Whether these payloads, each framed (BigSize length, payload, HMAC), fit the area."""
    used = sum(len(encode_bigsize(len(p))) + len(p) + HMAC_SIZE for p in payloads)
    return used <= PAYMENT_PAYLOAD_AREA


def corpus_inputs(node_key: bytes, associated_data: bytes, count: int, seed: int = 1
                  ) -> list[tuple[str, bytes]]:
    """(name, onion) pairs: every onion's HMAC verifies for `node_key`."""
    rng = random.Random(seed)
    pub = crypto.public_key(node_key, "node_key")
    out = []
    for i in range(count):
        kind, payload, framed = MAKERS[i % len(MAKERS)](rng)
        session = secret(rng)
        if framed:
            plain = (payload + rng.randbytes(PAYMENT_PAYLOAD_AREA))[:PAYMENT_PAYLOAD_AREA]
            onion = seal(plain, pub, session, associated_data)
        else:
            hops = [(pub, payload)]
            # A next hop, where it fits beside the payload: the node sees a forwarding frame.
            if rng.random() < 0.5 and _fits(payload, _NEXT_PAYLOAD):
                hops.append((crypto.public_key(secret(rng)), _NEXT_PAYLOAD))
            onion = build_onion(session, hops, associated_data).to_bytes()
        out.append((f"{i:04d}-{kind}-{hashlib.sha256(onion).hexdigest()[:8]}", onion))
    return out


def go_corpus_file(data: bytes) -> bytes:
    """Go's native fuzzing corpus entry (testdata/fuzz/FuzzX/<name>): one []byte value."""
    quoted = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\x{b:02x}"
                     for b in data)
    return f'go test fuzz v1\n[]byte("{quoted}")\n'.encode()


def write_corpus(out: Path, inputs: list[tuple[str, bytes]], fmt: str = "raw") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in inputs:
        path = out / name
        path.write_bytes(go_corpus_file(data) if fmt == "go" else data)
        written.append(path)
    return written
