"""Payments below the tasks: AMP's child secrets, sharing and shard tracking (lnd
amp/child.go, amp/sharer.go), and keysend's check (bLIP 3). `sphinxamp.build_amp_payment` and
`build_keysend_payment` are the tasks."""

from sphinxamp._payload import parse_custom_records
from sphinxamp.payments._amp import (
    AmpShard,
    BuiltShard,
    ChildSecret,
    Rand,
    SeededRand,
    ShardTracker,
    Sharer,
    derive_child,
    reconstruct_children,
    reconstruct_root,
    split_amount,
    split_root,
)
from sphinxamp.payments._keysend import verify_keysend

__all__ = [
    "AmpShard",
    "BuiltShard",
    "ChildSecret",
    "Rand",
    "SeededRand",
    "ShardTracker",
    "Sharer",
    "derive_child",
    "parse_custom_records",
    "reconstruct_children",
    "reconstruct_root",
    "split_amount",
    "split_root",
    "verify_keysend",
]
