"""Attributable failures: the 920-byte `attribution_data` (BOLT 4 › Returning Errors ›
Initialization of `attribution_data`, Intermediate nodes, Origin node; BOLT 2 › Removing an
HTLC, TLV 1 of `update_fail_htlc_tlvs` and `update_fulfill_htlc_tlvs`).

Layout: 20 hold times (u32, unit 100 ms) ‖ 210 HMACs truncated to their first 4 bytes. The
HMACs are in blocks: block x (x = 0 is the node handling the data, x = 1 the next one
downstream, …) holds 20 − x HMACs, one per assumed distance y = 19 − x … 0 of that node from
the erring node, so `slot(x, y) = 20x − x(x−1)/2 + 19 − x − y`. Every node writes all 20 of its
own (block 0) so the origin can check them without knowing where the failure came from.

The MAC key is the hop's `um` key; the obfuscation stream is ChaCha20 under `ammagext`. On a
failure the MAC covers the return packet as the node has it before its own `ammag` layer; on
success (fulfill) there is no packet and the MAC starts with the hold times.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sphinxamp.errors import DecodeError, InvalidArgument
from sphinxamp.primitives import _crypto as crypto

MAX_HOPS = 20
HOLD_TIME_SIZE = 4
HOLD_TIMES_SIZE = MAX_HOPS * HOLD_TIME_SIZE  # 80
TRUNCATED_HMAC_SIZE = 4
HMAC_COUNT = MAX_HOPS * (MAX_HOPS + 1) // 2  # 210 = 20 + 19 + … + 1
ATTRIBUTION_DATA_SIZE = HOLD_TIMES_SIZE + HMAC_COUNT * TRUNCATED_HMAC_SIZE  # 920
HOLD_TIME_UNIT_MS = 100
U32_MAX = (1 << 32) - 1


def slot(x: int, y: int) -> int:
    """Index among the 210 HMACs of the one node `x` hops downstream wrote for distance `y`."""
    return MAX_HOPS * x - x * (x - 1) // 2 + (MAX_HOPS - 1 - x - y)


def _at(x: int, y: int) -> int:
    return HOLD_TIMES_SIZE + TRUNCATED_HMAC_SIZE * slot(x, y)


def _block_start(x: int) -> int:
    """Byte offset of block x (its largest-y entry first)."""
    return _at(x, MAX_HOPS - 1 - x)


@dataclass(frozen=True, slots=True)
class AttributionData:
    """The 920 bytes split into their fields (as they stand: a hop's view is still
    obfuscated by every layer it has not removed)."""

    hold_times: tuple[int, ...]
    hmacs: tuple[bytes, ...]

    @classmethod
    def from_bytes(cls, data: bytes) -> AttributionData:
        data = check_size(data)
        holds = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(0, 80, 4))
        macs = tuple(data[i : i + 4] for i in range(HOLD_TIMES_SIZE, ATTRIBUTION_DATA_SIZE, 4))
        return cls(holds, macs)

    def to_bytes(self) -> bytes:
        return b"".join(h.to_bytes(4, "big") for h in self.hold_times) + b"".join(self.hmacs)

    def hmac(self, x: int, y: int) -> bytes:
        return self.hmacs[slot(x, y)]


@dataclass(frozen=True, slots=True)
class HopAttribution:
    """What the origin learns about one hop: its reported hold time (unit 100 ms) and
    whether its HMAC verified. The first hop whose HMAC fails is to blame (strictly, it or
    its upstream neighbour)."""

    hop_index: int
    hold_time: int
    hmac_ok: bool

    @property
    def hold_time_ms(self) -> int:
        return self.hold_time * HOLD_TIME_UNIT_MS


def check_size(data: bytes) -> bytes:
    if len(data) != ATTRIBUTION_DATA_SIZE:
        raise DecodeError(f"attribution_data must be {ATTRIBUTION_DATA_SIZE} bytes, got "
                          f"{len(data)}", field="attribution_data",
                          offset=min(len(data), ATTRIBUTION_DATA_SIZE), reason="wrong_length")
    return bytes(data)


def _secret(shared_secret: bytes) -> bytes:
    if len(shared_secret) != 32:
        raise InvalidArgument("a shared secret is 32 bytes", field="shared_secret",
                              reason="wrong_length")
    return bytes(shared_secret)


def _hold(hold_time: int) -> bytes:
    if not 0 <= hold_time <= U32_MAX:
        raise InvalidArgument(f"hold time {hold_time} does not fit a u32", field="hold_time",
                              reason="range")
    return hold_time.to_bytes(4, "big")


def _block_hmac(um: bytes, packet: bytes, data: bytes | bytearray, y: int) -> bytes:
    """hmac_0_y: packet ‖ hold_times[0..y] ‖ slot(1, y−1) ‖ … ‖ slot(y, 0), truncated."""
    parts = [packet, bytes(data[: HOLD_TIME_SIZE * (y + 1)])]
    parts += [bytes(data[_at(x, y - x) : _at(x, y - x) + 4]) for x in range(1, y + 1)]
    return hmac.digest(um, b"".join(parts), "sha256")[:TRUNCATED_HMAC_SIZE]


def _fill_own_block(shared_secret: bytes, packet: bytes, data: bytearray) -> bytes:
    """Write block 0 (all 20 distances), then obfuscate with `ammagext`."""
    um = crypto.derive_key(crypto.KEY_UM, shared_secret)
    for y in range(MAX_HOPS):
        data[_at(0, y) : _at(0, y) + 4] = _block_hmac(um, packet, data, y)
    return crypto.chacha20(crypto.derive_key(crypto.KEY_AMMAGEXT, shared_secret), bytes(data))


def create_attribution(shared_secret: bytes, hold_time: int = 0, packet: bytes = b"") -> bytes:
    """The erring node's (or, on success, the final node's) attribution data.

    `packet` is the return packet before its `ammag` layer (HMAC included); empty on success.
    """
    data = bytearray(ATTRIBUTION_DATA_SIZE)
    data[0:4] = _hold(hold_time)
    return _fill_own_block(_secret(shared_secret), bytes(packet), data)


def wrap_attribution(shared_secret: bytes, hold_time: int = 0, data: bytes | None = None,
                     packet: bytes = b"") -> bytes:
    """An intermediate node's attribution data: shift the received data one hop down, prune
    each block's largest-y entry, add its own hold time and block, obfuscate.

    `data` None means downstream sent none: start from all zeros (BOLT 4 MUST). `packet` is
    the return packet as received from downstream (before this node's `ammag`); empty on
    success.
    """
    old = bytes(ATTRIBUTION_DATA_SIZE) if data is None else check_size(data)
    new = bytearray(ATTRIBUTION_DATA_SIZE)
    new[0:4] = _hold(hold_time)
    new[4:HOLD_TIMES_SIZE] = old[: HOLD_TIMES_SIZE - 4]
    for x in range(MAX_HOPS - 1):
        size = TRUNCATED_HMAC_SIZE * (MAX_HOPS - 1 - x)  # old block x without its first slot
        src, dst = _block_start(x) + TRUNCATED_HMAC_SIZE, _block_start(x + 1)
        new[dst : dst + size] = old[src : src + size]
    return _fill_own_block(_secret(shared_secret), bytes(packet), new)


def _unshift(view: bytes) -> bytes:
    """The origin's inverse of one wrap: the data as the next hop downstream sent it, with
    the entries that hop pruned left zero (no later check reads them)."""
    out = bytearray(ATTRIBUTION_DATA_SIZE)
    out[: HOLD_TIMES_SIZE - 4] = view[4:HOLD_TIMES_SIZE]
    for x in range(MAX_HOPS - 1):
        size = TRUNCATED_HMAC_SIZE * (MAX_HOPS - 1 - x)
        dst, src = _block_start(x) + TRUNCATED_HMAC_SIZE, _block_start(x + 1)
        out[dst : dst + size] = view[src : src + size]
    return bytes(out)


def verify_attribution(data: bytes, shared_secrets: Sequence[bytes],
                       packets: Sequence[bytes] | None = None, *,
                       hops: int | None = None) -> tuple[HopAttribution, ...]:
    """The origin's check, hop by hop from the nearest: hold time and HMAC of each.

    `packets[i]` is the return packet as hop i had it before its own `ammag` layer (what the
    origin gets by stripping layers 0…i); None on success. Stops after the first bad HMAC, or
    after `hops` hops (the erring hop + 1 when the return packet named it).

    A route may have up to 27 hops (BOLT 4 › Origin node) but the data has slots for the 20
    nearest the origin (› Initialization of `attribution_data`), so at most the first 20 are
    checked. Hop i's HMAC is the one for distance min(n, 20) − 1 − i: the chain that reaches
    the last attributable hop. Upstream of the erring node every distance verifies, and past
    the 20th hop each hop's block 0 covers what it received from downstream.
    """
    checked = min(len(shared_secrets), MAX_HOPS)
    if hops is not None:
        checked = min(checked, hops)
    if packets is not None and len(packets) < checked:
        raise InvalidArgument("one return packet per verified hop is needed", field="packets",
                              reason="wrong_length")
    last = min(len(shared_secrets), MAX_HOPS) - 1  # the last attributable hop's index
    view = check_size(data)
    out: list[HopAttribution] = []
    for i in range(checked):
        secret = _secret(shared_secrets[i])
        mine = crypto.chacha20(crypto.derive_key(crypto.KEY_AMMAGEXT, secret), view)
        y = last - i
        packet = b"" if packets is None else bytes(packets[i])
        want = _block_hmac(crypto.derive_key(crypto.KEY_UM, secret), packet, mine, y)
        ok = hmac.compare_digest(want, mine[_at(0, y) : _at(0, y) + 4])
        out.append(HopAttribution(i, int.from_bytes(mine[0:4], "big"), ok))
        if not ok:
            break
        view = _unshift(mine)
    return tuple(out)
