"""The incoming HTLC's context that a hop decision needs (BOLT 4 › `payload` format ›
Requirements, the reader; BOLT 2 › `update_add_htlc`): the HTLC's amount and expiry, the
current block height, and what a recipient knows of its own blinded paths.

A decision that depends on a value must not be taken without it: a blinded hop judges
payment_constraints and payment_relay against the HTLC, and a final node compares the HTLC
with its payload and the height. A missing value is the caller's error (`InvalidArgument`),
raised before anything is recorded, never a silently skipped check.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import NamedTuple

from sphinxamp.errors import (
    FinalIncorrectCltvExpiry,
    FinalIncorrectHtlcAmount,
    InvalidArgument,
    PaymentError,
)

# BOLT 11 › Tagged Fields: without a `c` field the recipient's min_final_cltv_expiry_delta is
# 18 blocks.
DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 18


class HtlcContext(NamedTuple):
    """What `update_add_htlc` and the node's own state say about one incoming HTLC (a tuple:
    built on every hop, it costs the hot path next to nothing)."""

    amount_msat: int | None = None
    cltv_expiry: int | None = None
    current_block_height: int | None = None
    min_final_cltv_expiry_delta: int = DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA
    expected_path_id: bytes | None = None
    known_features: frozenset[int] = frozenset()

    def forwarded(self, amount_msat: int | None, cltv_expiry: int | None) -> HtlcContext:
        """The context of the layer after a dummy hop: what its payment_relay left."""
        return HtlcContext(amount_msat, cltv_expiry, self.current_block_height,
                           self.min_final_cltv_expiry_delta, self.expected_path_id,
                           self.known_features)


NO_CONTEXT = HtlcContext()


def _checked(name: str, value: object, bits: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise InvalidArgument(f"{name} must be a u{bits}, got {value!r}", field=name,
                              reason="out_of_range")
    return value


def htlc_context(*, amount_msat: object, incoming_cltv_expiry: object, cltv_expiry: object,
                 current_block_height: object, min_final_cltv_expiry_delta: object,
                 expected_path_id: object, known_features: Iterable[int]) -> HtlcContext:
    """The context from process_hop's keywords, each checked. `cltv_expiry` is the deprecated
    name of `incoming_cltv_expiry` (the same HTLC field)."""
    if cltv_expiry is not None:
        warnings.warn("process_hop(cltv_expiry=) is deprecated: pass the HTLC's expiry as "
                      "incoming_cltv_expiry=", DeprecationWarning, stacklevel=3)
        if incoming_cltv_expiry is not None and incoming_cltv_expiry != cltv_expiry:
            raise InvalidArgument("cltv_expiry and incoming_cltv_expiry are the same HTLC "
                                  "field and differ", field="cltv_expiry",
                                  reason="conflicting_cltv")
        incoming_cltv_expiry = cltv_expiry
    if (amount_msat is None and incoming_cltv_expiry is None and current_block_height is None
            and expected_path_id is None and not known_features
            and min_final_cltv_expiry_delta == DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA):
        return NO_CONTEXT  # a forwarding hop outside a blinded route: nothing to check
    if expected_path_id is not None and not isinstance(expected_path_id, bytes | bytearray):
        raise InvalidArgument("expected_path_id must be bytes", field="expected_path_id",
                              reason="not_bytes")
    features = frozenset(known_features) if known_features else frozenset()
    if features and not all(isinstance(b, int) and not isinstance(b, bool) and b >= 0
                            for b in features):
        raise InvalidArgument("known_features must be feature bit numbers",
                              field="known_features", reason="not_a_feature_bit")
    return HtlcContext(
        None if amount_msat is None else _checked("incoming_amount_msat", amount_msat, 64),
        None if incoming_cltv_expiry is None
        else _checked("incoming_cltv_expiry", incoming_cltv_expiry, 32),
        None if current_block_height is None
        else _checked("current_block_height", current_block_height, 32),
        _checked("min_final_cltv_expiry_delta", min_final_cltv_expiry_delta, 32),
        None if expected_path_id is None else bytes(expected_path_id), features)


def require(context: HtlcContext, *, final: bool, blinded: bool) -> None:
    """Refuse, as the caller's error, a hop whose decision needs a value not given: a blinded
    hop (payment_constraints, payment_relay) the HTLC's amount and expiry, a final node also
    the block height (BOLT 4: cltv_expiry < current_block_height +
    min_final_cltv_expiry_delta)."""
    if not (final or blinded):
        return
    needed = [("incoming_amount_msat", context.amount_msat),
              ("incoming_cltv_expiry", context.cltv_expiry)]
    if final:
        needed.append(("current_block_height", context.current_block_height))
    for name, value in needed:
        if value is None:
            where = "final" if final else "blinded forwarding"
            raise InvalidArgument(f"a {where} hop needs {name}: the decision depends on it",
                                  field=name, reason="missing_context")


def check_final_htlc(amt_to_forward: int | None, outgoing_cltv_value: int | None,
                     context: HtlcContext) -> None:
    """BOLT 4 › `payload` Requirements, the final node outside a blinded route, answered as
    › Failure Messages names it, in the order of its list: an expiry unreasonably near the
    present (incorrect_or_unknown_payment_details), then final_incorrect_cltv_expiry, then
    final_incorrect_htlc_amount. `require` has made the context complete."""
    amount, cltv, height = context.amount_msat, context.cltv_expiry, context.current_block_height
    assert amount is not None and cltv is not None and height is not None
    least = height + context.min_final_cltv_expiry_delta
    if cltv < least:
        raise PaymentError(f"cltv_expiry {cltv} is below current_block_height {height} + "
                           f"min_final_cltv_expiry_delta {context.min_final_cltv_expiry_delta}",
                           field="cltv_expiry", reason="expiry_too_soon")
    if outgoing_cltv_value is not None and cltv < outgoing_cltv_value:
        raise FinalIncorrectCltvExpiry(f"cltv_expiry {cltv} is below outgoing_cltv_value "
                                       f"{outgoing_cltv_value}", field="outgoing_cltv_value",
                                       tlv_type=4, reason="final_incorrect_cltv_expiry")
    if amt_to_forward is not None and amount < amt_to_forward:
        raise FinalIncorrectHtlcAmount(f"amount {amount} msat is below amt_to_forward "
                                       f"{amt_to_forward}", field="amt_to_forward",
                                       tlv_type=2, reason="final_incorrect_htlc_amount")
