"""A trace keeps one onion, not one per hop: 20 hops at the largest payload area (65,469
bytes, 1.3 MB of forwarded onions in all) stay within a few onions of memory, while each
hop still tells whether it forwarded and the SHA-256 of what it sent."""

from __future__ import annotations

import hashlib
import tracemalloc

from sphinxamp import HopPayload, RouteSpec, ShortChannelId, trace_route
from sphinxamp.debug import TraceHop
from sphinxamp.onion import MAX_PAYLOAD_AREA

HOPS = 20
ONION = MAX_PAYLOAD_AREA + 66


def _route() -> RouteSpec:
    hops = []
    for i in range(HOPS):
        scid = None if i == HOPS - 1 else ShortChannelId(840_000, 1, i)
        payload = HopPayload(amt_to_forward=1_000, outgoing_cltv_value=900,
                             short_channel_id=scid).encode()
        hops.append(TraceHop(bytes([i + 1]) * 32, payload))
    return RouteSpec(b"\x41" * 32, b"\x42" * 32, tuple(hops), amount_msat=1_000,
                     cltv_expiry=900, height=100, payload_area=MAX_PAYLOAD_AREA)


def test_a_long_route_at_the_largest_area_keeps_a_few_onions() -> None:
    spec = _route()
    tracemalloc.start()
    try:
        trace = trace_route(spec)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(trace.hops) == HOPS and len(trace.onion) == ONION
    assert kept < 3 * ONION, f"the trace keeps {kept / ONION:.1f} onions"
    assert peak < 8 * ONION, f"peak {peak / ONION:.1f} onions"


def test_each_hop_tells_what_it_forwarded() -> None:
    trace = trace_route(_route())
    assert [h.forwards for h in trace.hops] == [True] * (HOPS - 1) + [False]
    for sent, received in zip(trace.hops, trace.hops[1:], strict=False):
        assert sent.next_onion_sha256 == received.onion_sha256
    assert trace.hops[-1].next_onion_sha256 is None
    assert trace.hops[0].onion_sha256 == hashlib.sha256(trace.onion).digest()
