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
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import EncodeError
from .payload import AmpRecord, PaymentData

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


def xor_bytes(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


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
        last = xor_bytes(last, share)
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
        return Sharer(self.root, left), Sharer(self.root, xor_bytes(self.current, left))

    def merge(self, share: bytes) -> Sharer:
        """Take back a failed shard's share, so it can be handed out again."""
        return Sharer(self.root, xor_bytes(self.current, _check_secret(share, "share")))

    def zero(self) -> Sharer:
        return Sharer(self.root, _ZERO)


def _random_index(rand: Rand) -> int:
    """A child_index from 4 random bytes, big-endian, as lnd draws it."""
    raw = rand(4)
    if len(raw) != 4:
        raise EncodeError("random source returned the wrong length", field="child_index",
                          reason="range")
    return int.from_bytes(raw, "big")


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
        index = _random_index(self._rand)
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
        shard = self._shards.pop(attempt_id, None)
        if shard is None:
            raise EncodeError(f"no shard for attempt {attempt_id}", field="attempt_id",
                              reason="unknown_attempt")
        self._sharer = self._sharer.merge(shard.child.share)

    def get_hash(self, attempt_id: int) -> bytes:
        shard = self._shards.get(attempt_id)
        if shard is None:
            raise EncodeError(f"no shard for attempt {attempt_id}", field="attempt_id",
                              reason="unknown_attempt")
        return shard.payment_hash

    def shards(self) -> tuple[AmpShard, ...]:
        return tuple(self._shards.values())
