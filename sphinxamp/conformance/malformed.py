"""Generated malformed cases: every MUST rule of BOLT 1 and BOLT 4 the library enforces,
violated once each, with the failure code and offset a reader must answer.

The expectations are written here from the rule, not taken from the reference: a test checks
that the reference answers each of them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from sphinxamp._codes import (
    INVALID_ONION_BLINDING,
    INVALID_ONION_HMAC,
    INVALID_ONION_KEY,
    INVALID_ONION_PAYLOAD,
)
from sphinxamp._codes import INVALID_ONION_VERSION as VERSION
from sphinxamp.blinding._onion_message import (
    Dropped,
    OnionMessagePayload,
    build_onion_message,
    process_onion_message,
)
from sphinxamp.blinding._path import EncryptedData, PaymentRelay, create_blinded_path
from sphinxamp.conformance.cases import Case
from sphinxamp.conformance.generate import CUSTOM_ODD, payload_records, secret, tlv_bytes
from sphinxamp.conformance.ops import OPS
from sphinxamp.onion._sphinx import PAYMENT_PAYLOAD_AREA, build_onion
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.wire._bigsize import encode_bigsize
from sphinxamp.wire._records import _RULES, Role
from sphinxamp.wire._tlv import ShortChannelId

SUITE = "malformed"
B1_BIGSIZE = "BOLT 1 › Appendix A: BigSize (minimal encoding, enough bytes)"
B1_TLV = "BOLT 1 › Type-Length-Value Format › Requirements"
B4_PEEL = "BOLT 4 › Onion Decryption"
B4_PAYLOAD = "BOLT 4 › Packet Structure › payload format › Requirements"
B4_ERRORS = "BOLT 4 › Returning Errors › Requirements"
B4_BLINDING = "BOLT 4 › Route Blinding › Requirements (the reader)"
B4_MESSAGES = "BOLT 4 › Onion Messages › Requirements (the reader)"

# (name, bytes, offset): BigSize read at offset 0.
BIGSIZE = (("non-minimal-fd", "fd00fc"), ("non-minimal-fe", "fe0000ffff"),
           ("non-minimal-ff", "ff00000000ffffffff"), ("truncated-fd", "fd00"),
           ("truncated-fe", "fe0000"), ("truncated-ff", "ff000000"), ("empty", ""))

# (name, stream, known types or None, offset, tlv_type): one BOLT 1 TLV rule each.
TLV: tuple[tuple[str, str, list[int] | None, int, int | None], ...] = (
       ("type-truncated", "fd01", None, 0, None), ("type-not-minimal", "fd000100", None, 0, None),
       ("length-missing", "02", None, 1, 2), ("length-truncated", "02fd00", None, 1, 2),
       ("length-not-minimal", "02fd000105", None, 1, 2), ("value-truncated", "020305", None, 2, 2),
       ("not-increasing", "040100020105", None, 3, 2), ("duplicate", "020105020106", None, 3, 2),
       ("unknown-even", "0101ff020105", [], 3, 2))


def seal(plain: bytes, node_pub: bytes, session_key: bytes, ad: bytes,
         version: int = 0) -> bytes:
    """A payment packet for `node_pub` whose hop_payloads decrypt to `plain` (1300 bytes)
    and whose HMAC verifies (BOLT 4 › Packet Construction, one hop, no filler): so a node
    reaches its payload reader with bytes no builder would write."""
    point = crypto.parse_point(node_pub)
    ss = crypto.ecdh(session_key, point)
    rho = crypto.derive_key(crypto.KEY_RHO, ss)
    body = crypto.xor(plain, crypto.chacha20_stream(rho, len(plain)))
    tag = crypto.hmac_sha256(crypto.derive_key(crypto.KEY_MU, ss), body + ad)
    return bytes((version,)) + crypto.public_key(session_key) + body + tag


UNSTATED = -1  # an offset the rule does not pin (the refusal is about decryption, not a byte)


def _case(key: str, op: str, request: dict[str, Any], rule: str, code: int | None,
          offset: int | None, tlv_type: int | None = None) -> Case:
    error: dict[str, Any] = {"failure_code": code}
    if offset != UNSTATED:
        error["offset"] = offset
    if tlv_type is not None or code == INVALID_ONION_PAYLOAD:
        error["tlv_type"] = tlv_type
    return Case(f"{SUITE}:{key}", SUITE, op, request, "generated: one rule violated", rule,
                {"error": error})


def _bolt1() -> Iterator[Case]:
    for name, data in BIGSIZE:
        yield _case(f"bigsize:{name}", "bigsize_decode", {"bytes": data}, B1_BIGSIZE, None, 0)
    for name, stream, known, offset, rtype in TLV:
        req: dict[str, Any] = {"stream": stream}
        if known is not None:
            req["known_types"] = known
        yield _case(f"tlv:{name}", "tlv_decode", req, B1_TLV, None, offset, rtype)


def _peel(rng: random.Random) -> Iterator[Case]:
    key, session, ad = secret(rng), secret(rng), rng.randbytes(32)
    pub = crypto.public_key(key)
    payload = tlv_bytes(payload_records(rng, Role.FINAL))
    good = build_onion(session, [(pub, payload)], ad).to_bytes()
    base = {"node_key": key.hex(), "associated_data": ad.hex()}

    def peel(name: str, onion: bytes, code: int | None, offset: int | None, **extra: Any
             ) -> Case:
        req = {**base, "onion": onion.hex(), **extra}
        return _case(f"onion:{name}", "onion_peel", req, B4_PEEL, code, offset)

    yield peel("version", bytes((1,)) + good[1:], VERSION, 0)
    yield peel("public-key", good[:1] + b"\x02" + b"\xff" * 32 + good[34:], INVALID_ONION_KEY, 1)
    yield peel("hmac", good[:-1] + bytes((good[-1] ^ 1,)), INVALID_ONION_HMAC, 1366 - 32)
    yield peel("associated-data", good, INVALID_ONION_HMAC, 1366 - 32,
               associated_data=rng.randbytes(32).hex())
    yield peel("packet-length", good[:-1], None, 1365)
    stream = bytes(payload)
    filler = rng.randbytes(PAYMENT_PAYLOAD_AREA)
    for name, frame in (("payload-length-0", b"\x00"), ("payload-length-1", b"\x01\x02"),
                        ("payload-length-not-minimal", b"\xfd\x00" + bytes((len(stream),))
                         + stream)):
        plain = (frame + bytes(32) + filler)[:PAYMENT_PAYLOAD_AREA]
        yield peel(name, seal(plain, pub, session, ad), INVALID_ONION_PAYLOAD, 0)
    # A frame 2 bytes longer than the area (step 7: "If `unwrapped_payloads` is smaller than
    # `hop_payloads`: MUST abort"), whose payload is a valid TLV stream of the role its
    # non-zero next_hmac gives it: only the bound check can refuse it.
    long = frame_filling(rng, PAYMENT_PAYLOAD_AREA - 3 - 32 + 2)
    past = encode_bigsize(len(long)) + long
    plain = (past + filler)[:PAYMENT_PAYLOAD_AREA]
    yield peel("frame-past-area", seal(plain, pub, session, ad), INVALID_ONION_PAYLOAD, 3)


def frame_filling(rng: random.Random, size: int) -> bytes:
    """A valid intermediate payload of exactly `size` bytes (≥ 253 + 30): its records and an
    odd custom record padding it (BOLT 1: an unknown odd type is skipped)."""
    base = tlv_bytes(payload_records(rng, Role.INTERMEDIATE))
    # type 65537 takes 5 bytes, a length ≥ 253 three.
    pad = size - len(base) - 5 - 3
    assert 253 <= pad < 1 << 16
    return base + tlv_bytes([(CUSTOM_ODD, rng.randbytes(pad))])


def _missing_at(records: list[tuple[int, bytes]], rtype: int) -> int:
    """Where a missing record would have been: the start of the first record above it."""
    pos = 0
    for t, value in records:
        if t > rtype:
            return pos
        pos += len(tlv_bytes([(t, value)]))
    return pos


# Writer MUST NOTs the reader has no rule for (BOLT 4 › payload format › Requirements, the
# writer: "For every non-final node: [...] MUST NOT include `payment_data`"; "For the final
# node: MUST NOT include `short_channel_id`"). A BOLT reader accepts them: they are valid
# cases (generate.py), refused under profile lnd only. AMP (14) outside a blinded route is
# judged by what the adapter declares it understands (judge.py), also in the valid suite.
WRITER_ONLY = frozenset({(Role.INTERMEDIATE, 8), (Role.FINAL, 6)})
OPTIONAL = frozenset({14})


def _role_code(role: Role, rtype: int | None = None) -> int:
    """BOLT 4 › Failure Messages › Requirements: `path_key` from update_add_htlc (the blinded
    roles here), or `current_path_key` (12) at a node that is not final, "MUST return an
    `invalid_onion_blinding` error"; otherwise invalid_onion_payload."""
    if role.blinded or (rtype == 12 and not role.final):
        return INVALID_ONION_BLINDING
    return INVALID_ONION_PAYLOAD


def _role_case(key: str, role: Role, records: list[tuple[int, bytes]], rtype: int,
               offset: int) -> Case:
    req = {"final": role.final, "path_key": role.blinded, "payload": tlv_bytes(records).hex()}
    code = _role_code(role, rtype)
    if code == INVALID_ONION_BLINDING:  # its data is sha256_of_onion: no type, no offset
        return _case(key, "payload_decode", req, B4_PAYLOAD, code, UNSTATED)
    return _case(key, "payload_decode", req, B4_PAYLOAD, code, offset, rtype)


def _roles(rng: random.Random) -> Iterator[Case]:
    """Each role's required records omitted and forbidden ones included, from the registry
    (BOLT 4 › payload format › Requirements, the reader: "MUST return an error if")."""
    extra = {6: rng.randbytes(8), 8: rng.randbytes(32) + b"\x01", 10: rng.randbytes(20),
             12: crypto.public_key(secret(rng)), 14: rng.randbytes(64) + b"\x01",
             16: b"\x01", 18: b"\x01"}
    for role in Role:
        required, forbidden, only, _ = _RULES[role]
        good = payload_records(rng, role)
        for rtype in sorted(required):
            records = [(t, v) for t, v in good if t != rtype]
            yield _role_case(f"payload:{role.value}:omits-{rtype}", role, records, rtype,
                             _missing_at(records, rtype))
        banned = set(forbidden) | ({t for t in extra if t not in only} if only else set())
        if not role.blinded:
            # encrypted_recipient_data makes the payload a blinded one (BOLT 4 › Route
            # Blinding): judged as such, which the blinded roles' cases cover.
            banned -= {10, *OPTIONAL}
        banned -= {t for r, t in WRITER_ONLY if r is role}
        for rtype in sorted(banned - required):
            records = sorted([*good, (rtype, extra[rtype])])
            yield _role_case(f"payload:{role.value}:includes-{rtype}", role, records, rtype,
                             _missing_at(records, rtype - 1))


def _payload_values(rng: random.Random) -> Iterator[Case]:
    """BOLT 1 inside a payload: each becomes invalid_onion_payload at the record."""
    cltv = b"\x04\x02\x01\x00"
    for name, stream, offset, rtype in (
            ("tu64-leading-zero", b"\x02\x02\x00\x05" + cltv, 0, 2),
            ("scid-length", b"\x02\x01\x05" + cltv + b"\x06\x07" + bytes(7), 7, 6),
            ("unknown-even", b"\x02\x01\x05" + cltv + b"\x06\x08" + bytes(8) + b"\x14\x00",
             17, 20),
            ("path-key-twice", b"\x0a\x14" + bytes(20) + b"\x0c\x21"
             + crypto.public_key(secret(rng)), 22, 12)):
        final = name not in ("path-key-twice", "scid-length", "unknown-even")
        blinded = name == "path-key-twice"
        req = {"payload": stream.hex(), "final": final, "path_key": blinded}
        if blinded:  # path_key from update_add_htlc: invalid_onion_blinding (no location)
            yield _case(f"payload:{name}", "payload_decode", req, B4_PAYLOAD,
                        INVALID_ONION_BLINDING, UNSTATED)
            continue
        yield _case(f"payload:{name}", "payload_decode", req, B4_PAYLOAD,
                    INVALID_ONION_PAYLOAD, offset, rtype)


def _failures(rng: random.Random) -> Iterator[Case]:
    """BOLT 4 › Returning Errors: failure_len + pad_len MUST be at least 256; the origin
    MUST find no hop whose HMAC verifies in a packet damaged on the way."""
    secret_hex = rng.randbytes(32).hex()
    yield _case("failure:pad-below-256", "failure_create",
                {"shared_secret": secret_hex, "failure_message": "2002", "pad_to": 255},
                B4_ERRORS, None, None)
    yield _case("failure:unattributable", "failure_decrypt",
                {"shared_secrets": [secret_hex, rng.randbytes(32).hex()],
                 "packet": rng.randbytes(292).hex()}, B4_ERRORS, None, None)


def _blinded_hop(rng: random.Random, data: EncryptedData | bytes, final: bool | None = None,
                 node_key: bytes | None = None) -> dict[str, Any]:
    """A blinded_hop_process request for a one-hop path carrying `data`."""
    key = secret(rng)
    session = secret(rng)
    path = create_blinded_path(session, [(crypto.public_key(key), data)])
    req: dict[str, Any] = {"node_key": (node_key or key).hex(),
                           "path_key": path.first_path_key.hex(),
                           "encrypted_recipient_data": path.hops[0].encrypted_recipient_data.hex()}
    if final is not None:
        req["final"] = final
    return req


def _blinding(rng: random.Random) -> Iterator[Case]:
    """BOLT 4 › Route Blinding, the reader: each refusal is invalid_onion_blinding."""
    relay = PaymentRelay(cltv_expiry_delta=40, fee_proportional_millionths=100,
                         fee_base_msat=1000)
    nxt = crypto.public_key(secret(rng))
    scid = ShortChannelId(1, 2, 3)
    for name, req, rtype in (
            ("undecryptable", _blinded_hop(rng, EncryptedData(next_node_id=nxt),
                                           node_key=secret(rng)), None),
            ("unknown-even-type", _blinded_hop(rng, bytes.fromhex("2a0100")), 42),
            ("both-next-hops", _blinded_hop(rng, EncryptedData(
                short_channel_id=scid, next_node_id=nxt, payment_relay=relay), False), 4),
            ("no-next-hop", _blinded_hop(rng, EncryptedData(payment_relay=relay), False), 2),
            ("no-payment-relay", _blinded_hop(rng, EncryptedData(next_node_id=nxt), False), 10)):
        # Without `final` the op unblinds outside any payment: no payment failure code.
        code = None if req.get("final") is None else INVALID_ONION_BLINDING
        yield _case(f"blinded:{name}", "blinded_hop_process", req, B4_BLINDING, code,
                    UNSTATED, rtype)


def _messages(rng: random.Random) -> Iterator[Case]:
    """BOLT 4 › Onion Messages, the reader: a bad message is dropped (no failure code)."""
    keys = [secret(rng) for _ in range(2)]
    ids = [crypto.public_key(k) for k in keys]
    for name, first, payload in (
            ("path-id-at-forwarding-hop",
             EncryptedData(next_node_id=ids[1], path_id=bytes(32)), None),
            ("no-next-hop", EncryptedData(padding=bytes(3)), None),
            ("two-contents", EncryptedData(next_node_id=ids[1]),
             OnionMessagePayload(invoice=b"", invoice_error=b""))):  # two valid TLV streams
        path = create_blinded_path(secret(rng), [(ids[0], first),
                                                 (ids[1], EncryptedData(path_id=bytes(32)))])
        message = build_onion_message(secret(rng), path, payload).to_bytes()
        at = 1 if name == "two-contents" else 0
        if at:  # the bad payload is the last hop's: peel the first layer here
            got = process_onion_message(message, keys[0])
            assert not isinstance(got, Dropped)
            nxt = got.next_message()
            assert nxt is not None
            message = nxt.to_bytes()
        yield _case(f"message:{name}", "message_peel",
                    {"onion_message": message.hex(), "node_key": keys[at].hex()}, B4_MESSAGES,
                    None, UNSTATED)


def malformed_cases(seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = [*_bolt1(), *_peel(rng), *_roles(rng), *_payload_values(rng), *_failures(rng),
             *_blinding(rng), *_messages(rng)]
    return [c for c in cases if OPS[c.op].run is not None]
