"""Payments below the tasks: AMP's child secrets, sharing and shard tracking (lnd
amp/child.go, amp/sharer.go), and keysend's check (bLIP 3). `sphinxamp.build_amp_payment` and
`build_keysend_payment` are the tasks."""

from sphinxamp.payments._amp import (
    AmpShard,
    BuiltShard,
    ChildSecret,
    ShardTracker,
    Sharer,
    derive_child,
    reconstruct_children,
    reconstruct_root,
    split_root,
)
from sphinxamp.payments._keysend import verify_keysend

__all__ = [
    "AmpShard",
    "BuiltShard",
    "ChildSecret",
    "ShardTracker",
    "Sharer",
    "derive_child",
    "reconstruct_children",
    "reconstruct_root",
    "split_root",
    "verify_keysend",
]
