"""Payments below the tasks: AMP's child secrets, sharing and shard tracking (lnd
amp/child.go, amp/sharer.go), keysend's check (bLIP 3), and trampoline payments in both
formats in use (profiles "trampoline" for lightning/bolts#836, "trampoline-legacy" for
Eclair's and Electrum's): their payloads, the trampoline onion inside a payment onion, and a
trampoline node's layer (`process_hop(..., profile="trampoline")` returns it as
`ProcessedHop.trampoline`). `sphinxamp.build_amp_payment` and `build_keysend_payment` are the
tasks."""

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
from sphinxamp.payments._trampoline import (
    TRAMPOLINE_FORMATS,
    PaymentBlindedPath,
    TrampolineFormat,
    TrampolinePayload,
    decode_blinded_paths,
    decode_trampoline_payload,
    encode_blinded_paths,
    trampoline_format,
)
from sphinxamp.payments._trampoline_build import (
    TrampolineCarrier,
    TrampolinePayment,
    blinded_trampoline_hops,
    build_trampoline_onion,
    build_trampoline_payment,
    exact_payload_area,
    trampoline_session_key,
    wrap_trampoline_onion,
)
from sphinxamp.payments._trampoline_peel import (
    ACTIONS as TRAMPOLINE_ACTIONS,
)
from sphinxamp.payments._trampoline_peel import (
    TrampolineHop,
    carries_trampoline,
    check_trampoline_relay,
    peel_trampoline,
)

__all__ = [
    "TRAMPOLINE_ACTIONS",
    "TRAMPOLINE_FORMATS",
    "AmpShard",
    "BuiltShard",
    "ChildSecret",
    "PaymentBlindedPath",
    "Rand",
    "SeededRand",
    "ShardTracker",
    "Sharer",
    "TrampolineCarrier",
    "TrampolineFormat",
    "TrampolineHop",
    "TrampolinePayload",
    "TrampolinePayment",
    "blinded_trampoline_hops",
    "build_trampoline_onion",
    "build_trampoline_payment",
    "carries_trampoline",
    "check_trampoline_relay",
    "decode_blinded_paths",
    "decode_trampoline_payload",
    "derive_child",
    "encode_blinded_paths",
    "exact_payload_area",
    "parse_custom_records",
    "peel_trampoline",
    "reconstruct_children",
    "reconstruct_root",
    "split_amount",
    "split_root",
    "trampoline_format",
    "trampoline_session_key",
    "verify_keysend",
    "wrap_trampoline_onion",
]
