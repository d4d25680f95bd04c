"""Properties of failure onions and attribution data over random routes (1–27 hops), erring
positions, codes and hold times (BOLT 4 › Returning Errors):

- create at the erring hop → wrap at every upstream hop → the origin names the erring hop
  and decodes its message, and the attribution data verifies every hop up to it (the first
  20 at most: the data has 20 hop slots) with the hold times each reported;
- damage to the packet or to the attribution data as hop k < 20 sends it is blamed on hop k
  or its neighbour (BOLT 4: the origin can only pin the pair), never on a hop further away,
  and damage the hop's HMAC covers (its hold time) is always detected; damage past the 20th
  hop is blamed on no one.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sphinxamp import FailureMessage, create_failure, decrypt_failure, wrap_failure
from sphinxamp._codes import FAILURE_CODES
from sphinxamp.failures import (
    FailureReply,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)
from sphinxamp.failures._attribution import MAX_HOPS
from sphinxamp.wire import TlvRecord

U32 = 2**32 - 1
WIRE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "sha256": st.binary(min_size=32, max_size=32),
    "channel_update": st.binary(max_size=200),
    "u16": st.integers(0, 2**16 - 1), "u32": st.integers(0, U32),
    "u64": st.integers(0, 2**64 - 1), "bigsize": st.integers(0, 2**64 - 1),
}


@st.composite
def messages(draw: st.DrawFn) -> FailureMessage:
    code = draw(st.sampled_from(sorted(FAILURE_CODES)))
    fields = {name: draw(WIRE_VALUES[wire]) for name, wire in FAILURE_CODES[code].fields}
    types = sorted(draw(st.sets(st.integers(0, 70000), max_size=3)))
    tlv = tuple(TlvRecord(t, draw(st.binary(max_size=40))) for t in types)
    return FailureMessage.create(code, fields, tlv)


@st.composite
def routes(draw: st.DrawFn) -> tuple[list[bytes], int, list[int]]:
    n = draw(st.integers(1, 27))  # BOLT 4 › Origin node: up to 27 hops
    secrets = draw(st.lists(st.binary(min_size=32, max_size=32), min_size=n, max_size=n,
                            unique=True))
    erring = draw(st.integers(0, n - 1))
    holds = draw(st.lists(st.integers(0, U32), min_size=n, max_size=n))
    return secrets, erring, holds


def _send_back(secrets: list[bytes], erring: int, holds: list[int], message: FailureMessage,
               damage: tuple[int, str, int] | None = None) -> FailureReply:
    """The failure from `erring` relayed to the origin; `damage` = (hop, what, position)
    flips one bit of the packet or attribution data as that hop sends it."""
    reply = create_failure(secrets[erring], message, hold_time=holds[erring])
    for hop in range(erring, -1, -1):
        if hop < erring:
            reply = wrap_failure(secrets[hop], reply.packet, reply.attribution_data,
                                 hold_time=holds[hop])
        if damage is not None and damage[0] == hop:
            packet, data = bytearray(reply.packet), bytearray(reply.attribution_data or b"")
            target = packet if damage[1] == "packet" else data
            target[damage[2] % len(target)] ^= 0x01
            reply = FailureReply(bytes(packet), bytes(data))
    return reply


@settings(max_examples=60, deadline=None)
@given(routes(), messages())
def test_origin_names_the_erring_hop_and_verifies_every_hop(
        route: tuple[list[bytes], int, list[int]], message: FailureMessage) -> None:
    secrets, erring, holds = route
    reply = _send_back(secrets, erring, holds, message)
    result = decrypt_failure(reply.packet, secrets, reply.attribution_data)
    assert result.hop_index == erring
    assert result.message == message
    assert result.attribution is not None
    assert [(a.hop_index, a.hold_time, a.hmac_ok) for a in result.attribution] == \
        [(i, holds[i], True) for i in range(min(erring + 1, MAX_HOPS))]


def _first_bad(result: Any) -> int | None:
    return next((a.hop_index for a in result.attribution or () if not a.hmac_ok), None)


@settings(max_examples=60, deadline=None)
@given(routes(), messages(), st.data())
def test_damaged_packet_is_blamed_on_the_hop_or_its_neighbour(
        route: tuple[list[bytes], int, list[int]], message: FailureMessage,
        data: st.DataObject) -> None:
    secrets, erring, holds = route
    hop = data.draw(st.integers(0, erring))
    position = data.draw(st.integers(0, 10_000))
    reply = _send_back(secrets, erring, holds, message, (hop, "packet", position))
    result = decrypt_failure(reply.packet, secrets, reply.attribution_data)
    assert result.hop_index is None  # the erring node's HMAC no longer verifies
    assert _first_bad(result) in ((hop - 1, hop) if hop < MAX_HOPS else (None,))


@settings(max_examples=60, deadline=None)
@given(routes(), messages(), st.data())
def test_damaged_attribution_is_blamed_on_the_hop_or_its_neighbour(
        route: tuple[list[bytes], int, list[int]], message: FailureMessage,
        data: st.DataObject) -> None:
    secrets, erring, holds = route
    hop = data.draw(st.integers(0, erring))
    own_hold_time = data.draw(st.booleans())
    position = data.draw(st.integers(0, 3) if own_hold_time else st.integers(0, 919))
    reply = _send_back(secrets, erring, holds, message, (hop, "attribution", position))
    result = decrypt_failure(reply.packet, secrets, reply.attribution_data)
    assert result.hop_index == erring and result.message == message
    bad = _first_bad(result)
    if hop >= MAX_HOPS:
        assert bad is None
    elif own_hold_time:
        assert bad in (hop - 1, hop)
    else:
        assert bad is None or bad in (hop - 1, hop, hop + 1)


@settings(max_examples=40, deadline=None)
@given(routes())
def test_success_attribution_verifies_every_hop(
        route: tuple[list[bytes], int, list[int]]) -> None:
    secrets, _, holds = route
    n = len(secrets)
    blob = create_attribution(secrets[-1], holds[-1])
    for hop in range(n - 2, -1, -1):
        blob = wrap_attribution(secrets[hop], holds[hop], blob)
    verdicts = verify_attribution(blob, secrets)
    assert [(v.hold_time, v.hmac_ok) for v in verdicts] == \
        [(h, True) for h in holds[:MAX_HOPS]]
