"""`explain` of trampoline onions and payloads (sphinxamp/_explain/_trampoline.py, the
trampoline parts of _onion.py and _kinds.py), checked against the recorded vectors'
values: the proposal's (lightning/bolts#836, bolt04/trampoline-payment-onion-test.json and
trampoline-to-blinded-path-payment-onion-test.json) and Eclair's legacy payloads
(PaymentOnionSpec.scala), as vectors/trampoline-*.json record them.

What must hold: inside one explanation type 14 of a trampoline payload is outgoing_node_id,
named by profile "trampoline", never lnd's AMP record; every payload record names the
profile that defines it; under profile "bolt" a trampoline onion's record is refused as an
unknown even type (BOLT 1) and a note names the profile that reads it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import build_onion, encode_message, explain, explain_log, public_key
from sphinxamp.debug import Field
from sphinxamp.errors import InvalidArgument
from sphinxamp.messages import UpdateAddHtlc
from sphinxamp.payments import TrampolineCarrier
from sphinxamp.wire import encode_bigsize
from tests.fields import walk
from tests.test_cli_reference import check

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _case(name: str, case_id: str) -> dict[str, Any]:
    doc = json.loads((VECTORS / name).read_text())
    return next(c for c in doc["trampoline_cases"] if c["id"] == case_id)


def _records(fields: list[Field]) -> list[Field]:
    return [f for f in walk(fields) if f.children[:1] and f.children[0].name == "type"]


def _type(f: Field) -> int:
    return int(f.children[0].value)


def _peel(case: dict[str, Any], profile: str = "trampoline") -> Any:
    return explain(bytes.fromhex(case["onion"]), "onion",
                   node_key=bytes.fromhex(case["node_key"]),
                   assoc_data=bytes.fromhex(case["associated_data"]), profile=profile)


def _trampoline_payload(ex: Any) -> Field:
    """The hop payload inside the (first) trampoline onion."""
    packet = next(f for f in walk(ex.fields) if f.name == "trampoline_onion_packet"
                  and f.children and f.children[0].name == "version")
    return next(f for f in walk(packet.children) if f.name == "payload")


def test_a_trampoline_node_sees_the_proposals_payload() -> None:
    """Carol (proposal vector, node key 43…43) peels the outer onion and the trampoline onion
    in it: the trampoline payload is the vector's, its type 14 the next trampoline node."""
    case = _case("trampoline-payment-onion.json", "carol-processes")
    ex = _peel(case)
    assert ex.error is None, ex.error
    payload = _trampoline_payload(ex)
    assert payload.raw.hex() == case["expect"]["payload"]
    records = {_type(r): r for r in _records(payload.children)}
    assert sorted(records) == [2, 4, 14]
    node = records[14]
    assert (node.name, node.profile) == ("outgoing_node_id", "trampoline")
    assert node.children[2].raw.hex() == case["expect"]["next_node_id"]
    assert records[2].children[2].value == case["expect"]["amt_to_forward"]
    assert records[4].children[2].value == case["expect"]["outgoing_cltv_value"]
    assert (records[2].profile, records[4].profile) == ("bolt", "bolt")
    assert not any(f.name == "amp" for f in walk(ex.fields))


def test_every_part_of_the_trampoline_onion_names_its_format() -> None:
    case = _case("trampoline-payment-onion.json", "carol-processes")
    ex = _peel(case)
    packet = next(f for f in walk(ex.fields) if f.name == "trampoline_onion_packet"
                  and f.children and f.children[0].name == "version")
    assert [c.name for c in packet.children] == ["version", "public_key", "hop_payloads", "hmac"]
    assert {c.profile for c in [packet, *packet.children]} == {"trampoline"}
    # Every payload record, outer and inner, names a profile.
    assert all(r.profile in ("bolt", "trampoline") for r in _records(ex.fields))
    document = json.dumps(ex.to_json())
    assert '"profile": "trampoline"' in document


def test_the_recipient_finds_the_final_trampoline_payload() -> None:
    case = _case("trampoline-payment-onion.json", "eve-receives")
    ex = _peel(case)
    assert ex.error is None, ex.error
    payload = _trampoline_payload(ex)
    assert payload.raw.hex() == case["expect"]["payload"]
    assert 14 not in {_type(r) for r in _records(payload.children)}


def test_a_blinded_trampoline_hop_is_peeled_with_the_outer_path_key() -> None:
    """Dave inside the blinded trampoline path (trampoline-to-blinded-path vector): the outer
    payload's current_path_key tweaks the trampoline onion's ECDH; the HMAC verifies only
    with it."""
    case = _case("trampoline-to-blinded-path.json", "hops-dave-processes")
    ex = _peel(case)
    assert ex.error is None, ex.error
    names = {f.name for f in _records(_trampoline_payload(ex).children)}
    assert "encrypted_recipient_data" in names


def test_under_bolt_the_onion_record_is_refused_with_a_hint() -> None:
    case = _case("trampoline-payment-onion.json", "carol-processes")
    ex = _peel(case, "bolt")
    assert ex.error is not None
    assert (ex.error.reason, ex.error.tlv_type) == ("unknown_even_type", 20)
    assert any("type 20 is trampoline_onion_packet under profile trampoline" in n
               for n in ex.notes)
    assert not any(f.name == "trampoline_onion_packet" for f in walk(ex.fields))


@pytest.mark.parametrize("case_id", ["eclair-node-relay", "eclair-to-non-trampoline",
                                     "eclair-to-blinded-paths", "ldk-recipient-blinded-paths",
                                     "ldk-blinded-receive", "ldk-blinded-forward"])
def test_payload_records_name_their_profile(case_id: str) -> None:
    """Each record of Eclair's and LDK's payloads: the (type, name, profile) the vector
    records."""
    case = _case("trampoline-implementations.json", case_id)
    ex = explain(bytes.fromhex(case["payload"]), "payload", profile=case["profile"])
    assert ex.error is None, ex.error
    got = [[_type(r), r.name, r.profile] for r in _records(ex.fields)]
    assert got == case["expect"]["records"]


def test_the_legacy_onion_record_is_laid_out_as_a_packet() -> None:
    """Eclair's outer payload carrying a 400-byte-area trampoline onion in 66100."""
    case = _case("trampoline-implementations.json", "eclair-outer-with-trampoline-onion")
    ex = explain(bytes.fromhex(case["payload"]), "payload", profile="trampoline-legacy")
    assert ex.error is None, ex.error
    packet = next(f for f in walk(ex.fields) if f.name == "trampoline_onion_packet"
                  and f.children and f.children[0].name == "version")
    assert packet.raw.hex() == case["expect"]["trampoline_onion_packet"]
    assert packet.children[2].length == 400  # Eclair SphinxSpec: a 400-byte payload area
    assert {c.profile for c in packet.children} == {"trampoline-legacy"}
    assert any("hop_payloads not decrypted" in n for n in ex.notes)


_NODE = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"


def test_type_14_is_named_once_per_profile() -> None:
    """The same bytes: lnd's AMP record under "bolt" (lnd record/amp.go: type 14, 68 bytes
    at most) is refused as a 33-byte value too short for it; under "trampoline" they are
    outgoing_node_id; under "trampoline-legacy" type 14 is an unknown even type."""
    data = bytes.fromhex("02021388040203e80e21" + _NODE)
    bolt = explain(data, "payload")
    amp = next(r for r in _records(bolt.fields) if _type(r) == 14)
    assert (amp.name, amp.profile) == ("amp", "lnd")
    tramp = explain(data, "payload", profile="trampoline")
    node = next(r for r in _records(tramp.fields) if _type(r) == 14)
    assert (node.name, node.profile) == ("outgoing_node_id", "trampoline")
    assert tramp.error is None
    legacy = explain(data, "payload", profile="trampoline-legacy")
    assert legacy.error is not None and legacy.error.tlv_type == 14
    assert legacy.error.reason == "unknown_even_type"


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(InvalidArgument) as err:
        explain(b"\x02\x01\x01", "payload", profile="eclair")
    assert err.value.reason == "unknown_profile"


def test_cli_explain_profile_trampoline_json() -> None:
    case = _case("trampoline-payment-onion.json", "carol-processes")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinxamp", "explain", case["onion"], "--profile",
         "trampoline", "--node-key", case["node_key"], "--assoc-data",
         case["associated_data"], "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    fields: list[dict[str, Any]] = []
    stack = list(doc["fields"])
    while stack:
        f = stack.pop()
        fields.append(f)
        stack += f["children"]
    node = next(f for f in fields if f["name"] == "outgoing_node_id")
    assert node["profile"] == "trampoline"
    assert node["children"][2]["hex"] == case["expect"]["next_node_id"]
    text = subprocess.run(
        [sys.executable, "-m", "sphinxamp", "explain", case["onion"], "--profile",
         "trampoline", "--node-key", case["node_key"], "--assoc-data",
         case["associated_data"], "--no-color"], capture_output=True, text=True, check=False)
    assert "[profile trampoline]" in text.stdout
    assert "outgoing_node_id" in text.stdout


def test_the_explanation_fits_the_explain_schema() -> None:

    case = _case("trampoline-payment-onion.json", "carol-processes")
    check(_peel(case).to_json(), "explain")
    legacy = _case("trampoline-implementations.json", "eclair-outer-with-trampoline-onion")
    check(explain(bytes.fromhex(legacy["payload"]), "payload",
                  profile="trampoline-legacy").to_json(), "explain")


# --- explain never raises for the bytes, under either trampoline profile ----------------------

_KEY = b"\x43" * 32
_AD = b"\x42" * 32


def _outer_with(inner_payload: bytes, profile: str) -> bytes:
    """An outer payload carrying a trampoline onion whose one hop payload is `inner_payload`
    (any bytes), sealed for node key 43…43 and associated data 42…42."""
    frame = len(encode_bigsize(len(inner_payload))) + len(inner_payload) + 32
    packet = build_onion(b"\x51" * 32, [(public_key(_KEY), inner_payload)], _AD, frame)
    return TrampolineCarrier(1000, 800_000).payload(packet.packet, profile).encode()


def _inside(fields: list[Field], size: int) -> None:
    for f in walk(fields):
        assert f.offset >= 0 and f.offset + f.length <= size, (f.name, f.offset, f.length)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=120), st.sampled_from(["trampoline", "trampoline-legacy"]),
       st.booleans())
def test_explain_of_any_trampoline_payload_never_raises(inner: bytes, profile: str,
                                                         keys: bool) -> None:
    data = _outer_with(inner, profile) if len(inner) >= 2 else inner
    given_keys: dict[str, Any] = {"node_key": _KEY, "assoc_data": _AD} if keys else {}
    ex = explain(data, "payload", profile=profile, **given_keys)
    _inside(ex.fields, len(data))
    if ex.error is not None:
        assert 0 <= ex.error.offset <= len(data)
    if keys and len(inner) >= 2:
        peeled = [f for f in walk(ex.fields) if f.name == "payload" and f.decrypted]
        assert peeled and peeled[0].raw == inner


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["trampoline", "trampoline-legacy", "bolt"]))
def test_explain_of_any_bytes_under_a_profile_never_raises(data: bytes, profile: str) -> None:
    ex = explain(data, "auto", profile=profile, node_key=_KEY, assoc_data=_AD)
    _inside(ex.fields, len(data))


def test_a_logged_update_add_htlc_is_read_under_the_profile() -> None:
    """The vector's onion at Carol inside an update_add_htlc (BOLT 2), read from a log line:
    the trampoline onion in it is peeled under --profile trampoline as on its own."""
    case = _case("trampoline-payment-onion.json", "carol-processes")
    add = UpdateAddHtlc(bytes(32), 0, case["incoming_amount_msat"],
                        bytes.fromhex(case["associated_data"]), case["incoming_cltv_expiry"],
                        bytes.fromhex(case["onion"]))
    line = "2026-12-07T10:00:00.000Z DEBUG   peer_in: [IN] " + encode_message(add).hex()
    (found,) = explain_log([line], node_key=bytes.fromhex(case["node_key"]),
                           profile="trampoline")
    assert found.explanation.error is None, found.explanation.error
    node = next(r for r in _records(found.explanation.fields) if _type(r) == 14)
    assert (node.name, node.profile) == ("outgoing_node_id", "trampoline")
    assert node.children[2].raw.hex() == case["expect"]["next_node_id"]
    with pytest.raises(InvalidArgument):
        list(explain_log([line], profile="eclair"))
