"""Attribution data (BOLT 4 › Returning Errors › attribution_data) against the spec's
"Returning Errors" and "Returning success" vectors, byte for byte in both directions.

The spec text lists htlc_hold_time[i] next to pubkey[i], but the bytes hold the reverse
(node 4, the erring node, reports 1; node 0 reports 5): the tests use the values in the
bytes (`htlc_hold_time_in_attribution_data`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import FailureMessage, create_failure, decrypt_failure, wrap_failure
from sphinxamp.errors import DecodeError, InvalidArgument
from sphinxamp.failures import (
    AttributionData,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.failures._attribution import ATTRIBUTION_DATA_SIZE, HMAC_COUNT, slot
from tests.official import SHARED

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
OFFICIAL = SHARED / "extracted" / "bolt04-returning-errors-attribution.json"


def recorded() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(
        (VECTORS / "bolt04-failure-attribution.json").read_text())["cases"]
    return cases


def official() -> dict[str, Any]:
    """The official extracted file, or the same values as recorded when it is not here."""
    if OFFICIAL.is_file():
        doc: dict[str, Any] = json.loads(OFFICIAL.read_text())
        return doc
    _, failure, success = recorded()
    steps = failure["expect"]["hops"]
    return {
        "params": {"hops": [{"index": i, "htlc_hold_time_in_attribution_data": h}
                            for i, h in enumerate(failure["hold_times"])]},
        "erring_node": {"raw_error_packet": failure["expect"]["reason_before_ammag"],
                        "shared_secret": steps[0]["shared_secret"]},
        "forwarding": [{"node_index": s["hop_index"], "shared_secret": s["shared_secret"],
                        "error_packet": s["reason"], "attribution_data": s["attribution_data"]}
                       for s in steps],
        "success": {"attribution_data": [{"node_index": s["hop_index"],
                                          "attribution_data": s["attribution_data"]}
                                         for s in success["expect"]["hops"]]},
    }


DOC = official()
HOLDS = [h["htlc_hold_time_in_attribution_data"] for h in DOC["params"]["hops"]]
FORWARDING = DOC["forwarding"]  # node 4 (erring) first
ROUTE = [bytes.fromhex(f["shared_secret"]) for f in reversed(FORWARDING)]  # node 0 first


def _read_by_the_tests(doc: dict[str, Any]) -> dict[str, Any]:
    """The values of an attribution document that the tests below read, by the keys they
    read them with."""
    return {
        "holds": [h["htlc_hold_time_in_attribution_data"] for h in doc["params"]["hops"]],
        "raw": doc["erring_node"]["raw_error_packet"],
        "forwarding": [(f["node_index"], f["shared_secret"], f["error_packet"],
                        f["attribution_data"]) for f in doc["forwarding"]],
        "success": [(s["node_index"], s["attribution_data"])
                    for s in doc["success"]["attribution_data"]],
    }


def test_the_fallback_reads_as_the_official_file(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """Without the shared folder the tests read the recorded copy, under the same keys and
    with the same values as the official file (compared where that file is present)."""
    present = OFFICIAL.is_file()
    real = json.loads(OFFICIAL.read_text()) if present else None
    monkeypatch.setattr(sys.modules[__name__], "OFFICIAL", tmp_path / "absent.json")
    fallback = _read_by_the_tests(official())
    assert [f[0] for f in fallback["forwarding"]] == [4, 3, 2, 1, 0]
    assert [s[0] for s in fallback["success"]] == [4, 3, 2, 1, 0]
    if real is not None:
        assert fallback == _read_by_the_tests(real)


def test_layout_constants() -> None:
    assert (ATTRIBUTION_DATA_SIZE, HMAC_COUNT) == (920, 210)
    # The spec's three-hop illustration, blocks of 20, 19, 18 …: hmac_0_19 … hmac_0_0 come
    # first, then hmac_1_18 … hmac_1_0.
    assert [slot(0, y) for y in (19, 0)] == [0, 19]
    assert [slot(1, y) for y in (18, 0)] == [20, 38]
    assert slot(19, 0) == 209
    assert sorted(slot(x, y) for x in range(20) for y in range(20 - x)) == list(range(210))


def test_hold_times_in_the_bytes_are_the_reverse_of_the_listing() -> None:
    assert HOLDS == [5, 4, 3, 2, 1]
    if OFFICIAL.is_file():
        listed = [h["htlc_hold_time_as_listed"] for h in DOC["params"]["hops"]]
        assert listed == HOLDS[::-1]


def test_failure_direction_builds_every_hops_bytes() -> None:
    raw = bytes.fromhex(DOC["erring_node"]["raw_error_packet"])
    message = FailureMessage.decode(raw[34 : 34 + int.from_bytes(raw[32:34], "big")])
    reply = None
    for step in FORWARDING:
        node, secret = step["node_index"], bytes.fromhex(step["shared_secret"])
        if reply is None:
            reply = create_failure(secret, message, hold_time=HOLDS[node], pad_to=1024)
        else:
            reply = wrap_failure(secret, reply.packet, reply.attribution_data,
                                 hold_time=HOLDS[node])
        assert reply.packet.hex() == step["error_packet"], node
        assert reply.attribution_data is not None
        assert reply.attribution_data.hex() == step["attribution_data"], node


def test_failure_direction_at_the_origin() -> None:
    last = FORWARDING[-1]
    result = decrypt_failure(bytes.fromhex(last["error_packet"]), ROUTE,
                                    bytes.fromhex(last["attribution_data"]))
    assert result.hop_index == 4 and result.failure_code == 0x400F
    assert result.attribution is not None
    assert [(h.hop_index, h.hold_time, h.hold_time_ms, h.hmac_ok) for h in result.attribution] \
        == [(i, HOLDS[i], 100 * HOLDS[i], True) for i in range(5)]


def test_success_direction_both_ways() -> None:
    data = None
    for step in DOC["success"]["attribution_data"]:
        node = step["node_index"]
        secret = ROUTE[node]
        data = create_attribution(secret, HOLDS[node]) if data is None else \
            wrap_attribution(secret, HOLDS[node], data)
        assert data.hex() == step["attribution_data"], node
    received = bytes.fromhex(DOC["success"]["attribution_data"][-1]["attribution_data"])
    assert [(h.hold_time, h.hmac_ok) for h in verify_attribution(received, ROUTE)] == \
        [(h, True) for h in HOLDS]


def test_success_data_fails_as_failure_data() -> None:
    """The failure direction's MACs cover the packet: the success data does not verify
    with a packet, and the failure data does not verify without one."""
    success = bytes.fromhex(DOC["success"]["attribution_data"][-1]["attribution_data"])
    failure = bytes.fromhex(FORWARDING[-1]["attribution_data"])
    assert not verify_attribution(failure, ROUTE)[0].hmac_ok
    packets = [b"\x00" * 1060] * 5
    assert not verify_attribution(success, ROUTE, packets)[0].hmac_ok


@pytest.mark.parametrize("hop", range(5))
def test_damage_at_a_hop_is_blamed_on_it(hop: int) -> None:
    """Damage to the hold time a hop sends makes that hop's HMAC fail first."""
    data = None
    for node in reversed(range(5)):
        data = create_attribution(ROUTE[node], HOLDS[node]) if data is None else \
            wrap_attribution(ROUTE[node], HOLDS[node], data)
        if node == hop:
            data = bytes([data[0] ^ 0x01]) + data[1:]
    assert data is not None
    verdicts = verify_attribution(data, ROUTE)
    assert [v.hmac_ok for v in verdicts] == [True] * hop + [False]


def test_missing_attribution_downstream_starts_from_zeros() -> None:
    """An intermediate node with nothing from downstream instantiates zeros (BOLT 4 MUST):
    hops up to it verify, the first hop past it does not."""
    data = wrap_attribution(ROUTE[1], 7, None)
    data = wrap_attribution(ROUTE[0], 3, data)
    verdicts = verify_attribution(data, ROUTE[:3])
    assert [(v.hold_time, v.hmac_ok) for v in verdicts][:2] == [(3, True), (7, True)]
    assert not verdicts[-1].hmac_ok


def test_refusals() -> None:
    with pytest.raises(DecodeError):
        verify_attribution(b"\x00" * 919, ROUTE)
    with pytest.raises(DecodeError):
        wrap_attribution(ROUTE[0], 0, b"\x00" * 921)
    with pytest.raises(InvalidArgument):
        create_attribution(ROUTE[0], 2**32)
    with pytest.raises(InvalidArgument):
        create_attribution(b"\x00" * 31, 0)


def test_parsed_view() -> None:
    data = bytes.fromhex(FORWARDING[-1]["attribution_data"])
    parsed = AttributionData.from_bytes(data)
    assert len(parsed.hold_times) == 20 and len(parsed.hmacs) == 210
    assert parsed.to_bytes() == data
    assert parsed.hmac(0, 19) == data[80:84]
