"""`explain` through its library function (sphinxamp._explain.explain), with and without keys.

Input: any bytes, explained
- as `auto` guesses them, without keys and with fixed test keys (the BOLT 4 vector's node key,
  a path key, associated data, one shared secret);
- byte 0 picks a kind (of `KIND_NAMES`) for the rest, explained with the fixed keys;
- the rest sealed under the fixed keys so that decryption succeeds and the decrypted view is
  what gets read: as the routing area of an onion (HMAC and rho from ECDH with the node key,
  through the path key's blinding), as the plaintext of encrypted_recipient_data, as the
  failure message of a return packet, and as an onion message carrying such an onion;
- with keys drawn from the input (node key, path key, shared secret, then the data), when it
  is long enough: keys that are no key (zero, past the curve order, not a point) included.
Invariants: only library errors escape (explain itself never raises for bytes); every field
lies inside the input, and a field that is not decrypted holds exactly the input's bytes at
its offset; children lie inside their parent; the error, if any, points inside the input and
names a rule and a BOLT section, and a field or the unread tail is marked at its offset; the
JSON form serialises; deterministic; memory O(len).
"""

import json
from collections.abc import Iterator
from typing import Any

import _common

from sphinxamp._explain import KIND_NAMES, Explanation, Field, explain
from sphinxamp.blinding._onion_message import ONION_MESSAGE_TYPE
from sphinxamp.blinding._path import encrypt_data
from sphinxamp.errors import SphinxampError
from sphinxamp.failures._packet import create_failure
from sphinxamp.onion._sphinx import _blinded_point
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import PrivateNodeKey, shared_secret

NODE_KEY = bytes([0x41]) * 32
ASSOC = bytes([0x42]) * 32
EPHEMERAL = PrivateNodeKey(bytes([0x43]) * 32).public_key
PATH_KEY = PrivateNodeKey(bytes([0x44]) * 32).public_key
SECRET = bytes([0x45]) * 32
FIXED: dict[str, Any] = {"node_key": NODE_KEY, "assoc_data": ASSOC, "path_key": PATH_KEY,
                         "shared_secrets": [SECRET]}
DRAWN = 32 + 33 + 32  # node key ‖ path key ‖ shared secret
# A tree holds a few fields per input byte, each with a slice of the input: a wider slope
# than a decoder's, still linear.
PER_BYTE = 2048


def _secret(path_key: bytes | None) -> bytes:
    """The node's shared secret for an onion with EPHEMERAL as its key (BOLT 4 › Onion
    Decryption; through the blinding when a path key is given): ECDH is symmetric, so
    computing it on the node's side seals as well as the sender would."""
    point = crypto.parse_point(EPHEMERAL)
    if path_key is not None:
        point = _blinded_point(NODE_KEY, point, path_key)[0]
    return shared_secret(NODE_KEY, point)


def _seal_onion(plain: bytes, assoc: bytes, path_key: bytes | None) -> bytes:
    ss = _secret(path_key)
    area = crypto.chacha20(crypto.derive_key(crypto.KEY_RHO, ss), plain)
    tag = crypto.hmac_sha256(crypto.derive_key(crypto.KEY_MU, ss), area + assoc)
    return b"\0" + EPHEMERAL + area + tag


def _seal_message(plain: bytes) -> bytes:
    packet = _seal_onion(plain, b"", PATH_KEY)
    return (ONION_MESSAGE_TYPE.to_bytes(2, "big") + PATH_KEY
            + (len(packet) & 0xFFFF).to_bytes(2, "big") + packet)


def _seal_data(plain: bytes) -> bytes:
    ss = shared_secret(NODE_KEY, crypto.parse_point(PATH_KEY))
    return encrypt_data(crypto.derive_key(crypto.KEY_RHO, ss), plain)


def _cases(data: bytes) -> Iterator[tuple[bytes, str, dict[str, Any]]]:
    yield data, "auto", {}
    yield data, "auto", FIXED
    if not data:
        return
    body = data[1:]
    yield body, KIND_NAMES[data[0] % len(KIND_NAMES)], FIXED
    yield _seal_onion(body, ASSOC, PATH_KEY), "onion", FIXED
    yield _seal_onion(body, ASSOC, None), "auto", {**FIXED, "path_key": None}
    yield _seal_message(body), "auto", FIXED
    yield _seal_data(body), "encrypted-data", FIXED
    if len(body) <= 0xFFFF:
        yield create_failure(SECRET, body, attribution=False).packet, "failure", FIXED
    if len(body) >= DRAWN:
        drawn = {"node_key": body[:32], "path_key": body[32:65], "assoc_data": b"",
                 "shared_secrets": [body[65:DRAWN]]}
        yield body[DRAWN:], KIND_NAMES[data[0] % len(KIND_NAMES)], drawn


def _explain(data: bytes, kind: str, keys: dict[str, Any]) -> Any:
    try:
        return explain(data, kind, **keys)
    except SphinxampError as exc:  # allowed to escape; none is expected for bytes
        return exc


def _check_field(f: Field, data: bytes, lo: int, hi: int, marks: list[int]) -> None:
    assert lo <= f.offset and f.offset + f.length <= hi, f"{f.name} outside its parent"
    if not f.decrypted and f.name != "unparsed":
        assert data[f.offset : f.offset + f.length] == f.raw, f"{f.name} bytes differ"
    if f.error:
        marks.append(f.offset)
    for child in f.children:
        _check_field(child, data, f.offset, f.offset + f.length, marks)


def _check(ex: Explanation, data: bytes) -> None:
    marks: list[int] = []
    for f in ex.fields:
        _check_field(f, data, 0, len(data), marks)
    if ex.error is not None:
        assert 0 <= ex.error.offset <= len(data), "error offset outside the input"
        assert ex.error.rule and ex.error.section.startswith("BOLT"), ex.error
        assert ex.error.offset in marks, "the failing field is not marked"
    json.dumps(ex.to_json())


def test_one_input(data: bytes) -> None:
    for case, kind, keys in _cases(data):
        first = _common.bounded(len(case), _explain, case, kind, keys,
                                per_byte=PER_BYTE).value
        second = _explain(case, kind, keys)
        if isinstance(first, SphinxampError):
            assert type(first) is type(second)
            continue
        assert isinstance(second, Explanation)
        assert first.to_json() == second.to_json(), "explain is not deterministic"
        _check(first, case)


def seeds(inputs: dict[str, set[bytes]]) -> dict[str, bytes]:
    """Corpus seeds for make_corpus.py: every kind's inputs found in the vectors."""
    out: dict[str, bytes] = {}
    for kind, found in inputs.items():
        for i, raw in enumerate(sorted(found)[:40]):
            out[f"vec-{kind}{i}"] = raw
    out["edge-empty"] = b""
    out["edge-attribution"] = bytes(920)
    out["edge-onion-version"] = b"\x01" + bytes(1365)
    out["edge-onion-empty-area"] = bytes(66)
    out["edge-wide-int"] = b"\x01\x02\xfd\x06\xfa" + b"\xff" * 1786
    return out


if __name__ == "__main__":
    _common.main(test_one_input)
