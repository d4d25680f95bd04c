"""AMP as lnd speaks it: child derivation, root sharing, shard tracking, payment building.

Facts from lnd (amp/child.go, amp/sharer.go, amp/shard_tracker.go, record/amp.go):

- The root is 32 random bytes and is never sent. It is split into n random 32-byte shares
  that XOR to it (n-of-n XOR secret sharing, no HMAC anywhere).
- Each HTLC carries its own share in the type-14 record (lnd names the field `root_share`)
  together with the payment's set_id and a child_index drawn at random per shard.
- child preimage = SHA256(root ‖ share ‖ be32(child_index)); child hash = SHA256(preimage),
  which is that HTLC's payment_hash. The receiver recovers the root only once every share of
  the set has arrived, so no HTLC of the set can settle before all of them can.

Named asymmetry, "AMP without MPP": lnd's payload parser accepts a final payload holding an
AMP record and no MPP record (htlcswitch/hop/payload.go checks only intermediate hops); its
route builder refuses to write one (routing/route/route.go, ErrAMPMissingMPP) and its invoice
layer refuses to settle one ("no MPP record for AMP"). This library does the same:
`decode_payload` accepts it, the builders here raise `EncodeError`, the receiver refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sphinxamp._payload import AmpRecord, HopPayload, PaymentData
from sphinxamp.errors import EncodeError
from sphinxamp.onion._sphinx import BuiltOnion
from sphinxamp.payments._route import RouteHop, RouteOnion, build_route_onion
from sphinxamp.primitives._crypto import xor
from sphinxamp.wire._tlv import TlvRecord

SHARE_SIZE = 32
SET_ID_SIZE = 32
MAX_CHILD_INDEX = 0xFFFFFFFF
_ZERO = bytes(SHARE_SIZE)

Rand = Callable[[int], bytes]


def _check_secret(value: bytes, field: str) -> bytes:
    if len(value) != SHARE_SIZE:
        raise EncodeError(f"{field} must be {SHARE_SIZE} bytes, got {len(value)}",
                          field=field, reason="range")
    return bytes(value)


def _check_index(child_index: int) -> int:
    if not 0 <= child_index <= MAX_CHILD_INDEX:
        raise EncodeError(f"child_index {child_index} does not fit a u32", field="child_index",
                          reason="range")
    return child_index


@dataclass(frozen=True, slots=True)
class ChildSecret:
    """One HTLC's secrets (lnd's `amp.Child`): its share and index, and what they derive."""

    share: bytes
    child_index: int
    preimage: bytes
    hash: bytes


def derive_child(root: bytes, share: bytes, child_index: int) -> ChildSecret:
    """lnd amp/child.go `DeriveChild`: the 68-byte input root ‖ share ‖ be32(index)."""
    root = _check_secret(root, "root")
    share = _check_secret(share, "share")
    data = root + share + struct.pack(">I", _check_index(child_index))
    preimage = hashlib.sha256(data).digest()
    return ChildSecret(share, child_index, preimage, hashlib.sha256(preimage).digest())


def reconstruct_root(shares: Iterable[bytes]) -> bytes:
    """The XOR of every share (order does not matter; no share yields the zero root)."""
    acc = 0
    for share in shares:
        acc ^= int.from_bytes(_check_secret(share, "share"), "big")
    return acc.to_bytes(SHARE_SIZE, "big")


def reconstruct_children(descs: Iterable[tuple[bytes, int]]) -> tuple[ChildSecret, ...]:
    """lnd `ReconstructChildren`: root = XOR of the shares, then every child from it."""
    items = [(bytes(share), index) for share, index in descs]
    root = reconstruct_root(share for share, _ in items)
    return tuple(derive_child(root, share, index) for share, index in items)


def split_root(root: bytes, n: int, rand: Rand = os.urandom) -> tuple[bytes, ...]:
    """n shares that XOR to `root`: n-1 random, the last makes up the difference.

    n = 1 gives (root,), as lnd's last (or only) shard takes the sharer's current value.
    """
    root = _check_secret(root, "root")
    if n < 1:
        raise EncodeError(f"cannot split into {n} shares", field="parts", reason="range")
    shares = [_check_secret(rand(SHARE_SIZE), "random share") for _ in range(n - 1)]
    last = root
    for share in shares:
        last = xor(last, share)
    return (*shares, last)


@dataclass(frozen=True, slots=True)
class Sharer:
    """lnd's `SeedSharer`: the root and the part of it (`current`) not yet given to a shard.

    Invariant: current ⊕ (shares of every live shard) = root.
    """

    root: bytes
    current: bytes

    @classmethod
    def from_root(cls, root: bytes) -> Sharer:
        root = _check_secret(root, "root")
        return cls(root, root)

    @classmethod
    def new(cls, rand: Rand = os.urandom) -> Sharer:
        return cls.from_root(rand(SHARE_SIZE))

    @property
    def is_zero(self) -> bool:
        return hmac.compare_digest(self.current, _ZERO)

    def child(self, child_index: int) -> ChildSecret:
        return derive_child(self.root, self.current, child_index)

    def split(self, rand: Rand = os.urandom) -> tuple[Sharer, Sharer]:
        """(left, right) with left.current random and left ⊕ right = current."""
        if self.is_zero:
            raise EncodeError("cannot split zero-Sharer", field="sharer", reason="zero_sharer")
        left = _check_secret(rand(SHARE_SIZE), "random share")
        return Sharer(self.root, left), Sharer(self.root, xor(self.current, left))

    def merge(self, share: bytes) -> Sharer:
        """Take back a failed shard's share, so it can be handed out again."""
        return Sharer(self.root, xor(self.current, _check_secret(share, "share")))

    def zero(self) -> Sharer:
        return Sharer(self.root, _ZERO)


@dataclass(frozen=True, slots=True)
class AmpShard:
    """One HTLC of an AMP payment: its child secrets and the records its final payload holds."""

    child: ChildSecret
    set_id: bytes
    payment_addr: bytes
    total_msat: int

    @property
    def payment_hash(self) -> bytes:
        return self.child.hash

    @property
    def amp_record(self) -> AmpRecord:
        return AmpRecord(self.child.share, self.set_id, self.child.child_index)

    @property
    def payment_data(self) -> PaymentData:
        # lnd sends the same MPP record on every shard: the payment's address and full total.
        return PaymentData(self.payment_addr, self.total_msat)


class ShardTracker:
    """lnd's amp.ShardTracker: hands out shares per payment attempt and takes failed ones back.

    Every new shard draws a fresh random child_index, so a shard retried after a failure has a
    different payment hash from the attempt it replaces (lnd amp/shard_tracker.go `NewShard`).
    """

    def __init__(self, root: bytes, set_id: bytes, payment_addr: bytes, total_msat: int,
                 rand: Rand = os.urandom) -> None:
        self._sharer = Sharer.from_root(root)
        self.set_id = _check_secret(set_id, "set_id")
        self.payment_addr = _check_secret(payment_addr, "payment_addr")
        if not 0 < total_msat < 1 << 64:
            raise EncodeError(f"total_msat {total_msat} outside 1..2^64-1", field="total_msat",
                              reason="range")
        self.total_msat = total_msat
        self._rand = rand
        self._shards: dict[int, AmpShard] = {}

    @property
    def root(self) -> bytes:
        return self._sharer.root

    @property
    def sharer(self) -> Sharer:
        return self._sharer

    def new_shard(self, attempt_id: int, last: bool) -> AmpShard:
        """The last shard takes everything left; any other takes a fresh random split."""
        if attempt_id in self._shards:
            raise EncodeError(f"attempt {attempt_id} already has a shard", field="attempt_id",
                              reason="duplicate_attempt")
        index = int.from_bytes(self._rand(4)[:4], "big")  # 4 random bytes, big-endian
        if last:
            child = self._sharer.child(index)
            self._sharer = self._sharer.zero()
        else:
            left, self._sharer = self._sharer.split(self._rand)
            child = left.child(index)
        shard = AmpShard(child, self.set_id, self.payment_addr, self.total_msat)
        self._shards[attempt_id] = shard
        return shard

    def cancel_shard(self, attempt_id: int) -> None:
        """A failed attempt's share goes back to the sharer for the shard that replaces it."""
        self._sharer = self._sharer.merge(self.shard(attempt_id).child.share)
        del self._shards[attempt_id]

    def shard(self, attempt_id: int) -> AmpShard:
        """The live shard of an attempt (its `payment_hash` is lnd's `GetHash`)."""
        if attempt_id not in self._shards:
            raise EncodeError(f"no shard for attempt {attempt_id}", field="attempt_id",
                              reason="unknown_attempt")
        return self._shards[attempt_id]


# --- the AMP payment -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShardRoute:
    """Where one shard goes: through `hops` (none: straight to the destination), carrying
    `amount_msat` to the destination (None: an even part of what the others leave)."""

    hops: tuple[RouteHop, ...] = ()
    amount_msat: int | None = None


@dataclass(frozen=True, slots=True)
class BuiltShard:
    """One HTLC of the payment: its child secrets and the onion over its route (as keysend's
    payment holds its `RouteOnion`), with what the sender offers the first hop."""

    route_onion: RouteOnion
    payment_hash: bytes
    amount_msat: int
    child: ChildSecret
    route: tuple[RouteHop, ...]

    @property
    def onion(self) -> BuiltOnion:
        return self.route_onion.onion

    @property
    def payloads(self) -> tuple[HopPayload, ...]:
        return self.route_onion.payloads

    @property
    def htlc_amount_msat(self) -> int:
        return self.route_onion.htlc_amount_msat

    @property
    def htlc_cltv_expiry(self) -> int:
        return self.route_onion.htlc_cltv_expiry

    @property
    def session_key(self) -> bytes:
        return self.route_onion.session_key


@dataclass(frozen=True, slots=True)
class AmpPayment:
    dest: bytes
    total_msat: int
    root: bytes
    set_id: bytes
    payment_addr: bytes
    shards: tuple[BuiltShard, ...]


ShardSpec = int | ShardRoute | Sequence[RouteHop]


def split_amount(total_msat: int, parts: int) -> tuple[int, ...]:
    """`parts` amounts summing to `total_msat` that differ by at most 1 msat."""
    if parts < 1 or total_msat < parts:
        raise EncodeError(f"cannot split {total_msat} msat into {parts} non-empty parts",
                          field="parts", reason="amount_split")
    q, r = divmod(total_msat, parts)
    return (q + 1,) * r + (q,) * (parts - r)


def _shard_routes(total_msat: int, spec: int | Sequence[ShardSpec]
                  ) -> list[tuple[tuple[RouteHop, ...], int]]:
    """(hops, amount) per shard; amounts left open share what the given ones leave."""
    if isinstance(spec, int):
        return [((), a) for a in split_amount(total_msat, spec)]
    routes = [s if isinstance(s, ShardRoute) else
              ShardRoute((), s) if isinstance(s, int) else ShardRoute(tuple(s)) for s in spec]
    left = total_msat - sum(r.amount_msat or 0 for r in routes)
    open_ = sum(r.amount_msat is None for r in routes)
    fill = iter(split_amount(left, open_) if open_ else ())
    out = [(r.hops, next(fill) if r.amount_msat is None else r.amount_msat) for r in routes]
    if not out or left < 0 or (left and not open_) or any(a <= 0 for _, a in out):
        raise EncodeError(f"shard amounts must be positive and sum to {total_msat} msat",
                          field="amount_msat", reason="amount_split")
    return out


def build_amp_payment(
    dest: bytes,
    total_msat: int,
    routes_or_amount_split: int | Sequence[ShardSpec],
    *,
    final_cltv_expiry: int,
    payment_addr: bytes | None = None,
    payment_metadata: bytes | None = None,
    custom_records: Iterable[TlvRecord] = (),
    rand: Rand = os.urandom,
    session_keys: Sequence[bytes] | None = None,
) -> AmpPayment:
    """One onion per shard, each final payload holding its own AMP record and the payment's
    MPP record (lnd amp/shard_tracker.go `NewShard`).

    `routes_or_amount_split` is a shard count (equal parts, straight to `dest`) or one entry
    per shard: an amount, a route (a sequence of `RouteHop`) or a `ShardRoute`. Without
    `payment_addr` the payment is spontaneous and the sender picks it at random; with one it
    pays a (reusable) AMP invoice. Root and set_id are drawn independently from `rand`.
    """
    routes = _shard_routes(total_msat, routes_or_amount_split)
    if session_keys is not None and len(session_keys) != len(routes):
        raise EncodeError(f"{len(session_keys)} session keys for {len(routes)} shards",
                          field="session_keys", reason="range")
    root, set_id = rand(SHARE_SIZE), rand(SET_ID_SIZE)
    addr = rand(SHARE_SIZE) if payment_addr is None else payment_addr
    tracker = ShardTracker(root, set_id, addr, total_msat, rand)
    customs = tuple(sorted(custom_records, key=lambda rec: rec.type))
    shards = []
    for i, (hops, amount) in enumerate(routes):
        shard = tracker.new_shard(i, last=i == len(routes) - 1)
        final = HopPayload(amt_to_forward=amount,
                           outgoing_cltv_value=final_cltv_expiry,
                           payment_data=shard.payment_data, amp=shard.amp_record,
                           payment_metadata=payment_metadata, custom_records=customs)
        key = rand(32) if session_keys is None else session_keys[i]
        built = build_route_onion(dest, hops, final, shard.payment_hash, key)
        shards.append(BuiltShard(built, shard.payment_hash, amount, shard.child, hops))
    return AmpPayment(dest, total_msat, tracker.root, set_id, addr, tuple(shards))


class SeededRand:
    """A reproducible stand-in for os.urandom (SHA256(seed ‖ be64(counter)) blocks), for
    vectors, demos and tests; never for real payments."""

    def __init__(self, seed: bytes) -> None:
        self._seed, self._counter, self._buf = bytes(seed), 0, b""

    def __call__(self, n: int) -> bytes:
        while len(self._buf) < n:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._buf += block
            self._counter += 1
        out, self._buf = self._buf[:n], self._buf[n:]
        return out
