"""Attribution data (BOLT 4 › Returning Errors › attribution_data): the origin's
verification and an intermediate node's wrap of data received from downstream.

Input: byte 0 picks a route length (1–27 hops of fixed shared secrets), byte 1 the mode;
the rest is attribution data as received (mode 0/1) or hold times to report (mode 2).
Invariants: verification refuses nothing but a wrong length, with a `DecodeError`; its
verdicts cover at most the route's first 20 hops (the data's slots; a route may have 27,
BOLT 4 › Origin node), stop at the first bad HMAC, and report u32 hold times;
wrapping received bytes raises only for a wrong length and always yields 920 bytes whose
own HMAC (hop 0) verifies; in mode 2 a success chain with the input's hold times verifies at
each of the first 20 hops with exactly those hold times; deterministic; memory O(len).
Mutator (`_mutate_attribution.AttributionMutator`): reads the hold times as the origin does,
mutates them and seals the chain again with the HMACs of all, some or none of the hops
recomputed. Data received (mode 0; mode 1 on a route of two hops or more) is the layered
input, counted by `_mutate.depth` as past the outer check when the first HMAC over its bytes
verifies: hop 0's, or hop 1's behind the harness's wrap (mode 2 is sealed here anyway).
"""

import _common
import _mutate
from _mutate_attribution import AttributionMutator

from sphinxamp.errors import DecodeError
from sphinxamp.failures._attribution import (
    MAX_HOPS,
    create_attribution,
    verify_attribution,
    wrap_attribution,
)

SECRETS = [bytes([i + 1]) * 32 for i in range(27)]


def _verify(data: bytes, hops: int) -> None:
    got = _common.deterministic(len(data), verify_attribution, data, SECRETS[:hops])
    _mutate.depth(got.error is None and got.value[0].hmac_ok)
    if got.error is not None:
        assert isinstance(got.error, DecodeError) and len(data) != 920
        return
    verdicts = got.value
    assert len(data) == 920 and 1 <= len(verdicts) <= min(hops, MAX_HOPS)
    assert all(v.hmac_ok for v in verdicts[:-1])
    assert all(0 <= v.hold_time < 1 << 32 for v in verdicts)


def _wrap(data: bytes, hops: int) -> None:
    got = _common.call(wrap_attribution, SECRETS[0], 7, data)
    if got.error is not None:
        if hops > 1:
            _mutate.depth(False)
        assert len(data) != 920
        return
    assert len(got.value) == 920
    verdicts = verify_attribution(got.value, SECRETS[:hops])
    if hops > 1:
        _mutate.depth(len(verdicts) > 1 and verdicts[1].hmac_ok)
    assert (verdicts[0].hold_time, verdicts[0].hmac_ok) == (7, True)


def _chain(raw: bytes, hops: int) -> None:
    holds = [int.from_bytes(raw[4 * i : 4 * i + 4].ljust(4, b"\0"), "big") for i in range(hops)]
    data = create_attribution(SECRETS[hops - 1], holds[-1])
    for i in range(hops - 2, -1, -1):
        data = wrap_attribution(SECRETS[i], holds[i], data)
    verdicts = verify_attribution(data, SECRETS[:hops])
    assert [(v.hold_time, v.hmac_ok) for v in verdicts] == [(h, True) for h in holds[:MAX_HOPS]]


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    hops, mode, rest = data[0] % len(SECRETS) + 1, data[1] % 3, data[2:]
    if mode == 0:
        _verify(rest, hops)
    elif mode == 1:
        _wrap(rest, hops)
    else:
        _chain(rest, hops)


if __name__ == "__main__":
    _common.main(test_one_input, structured=AttributionMutator(SECRETS))
