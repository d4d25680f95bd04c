"""The incoming HTLC's context (BOLT 2 › `update_add_htlc`; BOLT 4 › `payload` format ›
Requirements): each value checked as the wire type that carries it, a decision never taken
without the values it depends on, and the final node's checks in the order and with the codes
of BOLT 4 › Failure Messages."""

from __future__ import annotations

from typing import Any

import pytest

from sphinxamp._htlc import (
    DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
    NO_CONTEXT,
    HtlcContext,
    check_final_htlc,
    htlc_context,
    require,
)
from sphinxamp.errors import (
    FinalIncorrectCltvExpiry,
    FinalIncorrectHtlcAmount,
    InvalidArgument,
    PaymentError,
)


def _context(**given: Any) -> HtlcContext:
    values: dict[str, Any] = {
        "amount_msat": None, "incoming_cltv_expiry": None, "cltv_expiry": None,
        "current_block_height": None, "min_final_cltv_expiry_delta": 18,
        "expected_path_id": None, "known_features": ()}
    values.update(given)
    return htlc_context(**values)


def test_default_final_delta_is_bolt11s() -> None:
    """BOLT 11 › Tagged Fields: without `c`, min_final_cltv_expiry_delta is 18."""
    assert DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA == 18


def test_nothing_given_is_the_empty_context() -> None:
    assert _context() is NO_CONTEXT


def test_values_are_kept() -> None:
    ctx = _context(amount_msat=1000, incoming_cltv_expiry=800_000, current_block_height=799_000,
                   expected_path_id=bytearray(b"\x01" * 32), known_features=[9, 15])
    assert ctx == HtlcContext(1000, 800_000, 799_000, 18, b"\x01" * 32, frozenset({9, 15}))
    assert isinstance(ctx.expected_path_id, bytes)


@pytest.mark.parametrize(("field", "value", "reported"), [
    ("amount_msat", -1, "incoming_amount_msat"),
    ("amount_msat", 1 << 64, "incoming_amount_msat"),  # amount_msat is a u64
    ("amount_msat", True, "incoming_amount_msat"),
    ("amount_msat", 1.0, "incoming_amount_msat"),
    ("incoming_cltv_expiry", 1 << 32, "incoming_cltv_expiry"),  # cltv_expiry is a u32
    ("current_block_height", -5, "current_block_height"),
    ("min_final_cltv_expiry_delta", 1 << 32, "min_final_cltv_expiry_delta"),
    ("expected_path_id", "00" * 32, "expected_path_id"),
    ("known_features", [-1], "known_features"),
    ("known_features", ["9"], "known_features"),
])
def test_bad_values_are_the_callers_error(field: str, value: object, reported: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        _context(**{field: value})
    assert info.value.field == reported


def test_widths_at_their_limits_are_accepted() -> None:
    ctx = _context(amount_msat=(1 << 64) - 1, incoming_cltv_expiry=(1 << 32) - 1,
                   current_block_height=0)
    assert (ctx.amount_msat, ctx.cltv_expiry) == ((1 << 64) - 1, (1 << 32) - 1)


def test_deprecated_cltv_expiry_warns_and_must_agree() -> None:
    with pytest.warns(DeprecationWarning, match="incoming_cltv_expiry"):
        assert _context(cltv_expiry=500).cltv_expiry == 500
    with pytest.warns(DeprecationWarning), pytest.raises(InvalidArgument) as info:
        _context(cltv_expiry=500, incoming_cltv_expiry=501)
    assert info.value.reason == "conflicting_cltv"


@pytest.mark.parametrize(("final", "blinded", "context", "missing"), [
    (True, False, HtlcContext(None, 100, 10), "incoming_amount_msat"),
    (True, False, HtlcContext(1000, None, 10), "incoming_cltv_expiry"),
    (True, False, HtlcContext(1000, 100, None), "current_block_height"),
    (False, True, HtlcContext(None, 100), "incoming_amount_msat"),
    (False, True, HtlcContext(1000, None), "incoming_cltv_expiry"),
])
def test_a_decision_needs_its_values(final: bool, blinded: bool, context: HtlcContext,
                                     missing: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        require(context, final=final, blinded=blinded)
    assert (info.value.field, info.value.reason) == (missing, "missing_context")


def test_what_needs_nothing_passes() -> None:
    require(NO_CONTEXT, final=False, blinded=False)  # a plain forwarding hop
    require(HtlcContext(1000, 100), final=False, blinded=True)  # no height needed
    require(HtlcContext(1000, 100, 10), final=True, blinded=True)


def test_forwarded_keeps_the_nodes_own_state() -> None:
    ctx = HtlcContext(1000, 200, 10, 40, b"\x02" * 32, frozenset({9}))
    assert ctx.forwarded(900, 150) == HtlcContext(900, 150, 10, 40, b"\x02" * 32,
                                                  frozenset({9}))


# Final node at height 100 with delta 18: the least acceptable expiry is 118.
FINAL = HtlcContext(amount_msat=1000, cltv_expiry=118, current_block_height=100)


def test_final_htlc_that_matches_its_payload_passes() -> None:
    check_final_htlc(1000, 118, FINAL)
    check_final_htlc(900, 110, FINAL)  # paying more and expiring later than asked is allowed
    check_final_htlc(None, None, FINAL)


def test_expiry_too_near_is_incorrect_or_unknown_payment_details() -> None:
    with pytest.raises(PaymentError) as info:
        check_final_htlc(1000, 117, FINAL._replace(cltv_expiry=117))
    assert type(info.value) is PaymentError
    assert info.value.failure_code == 0x400F  # PERM|15
    assert info.value.reason == "expiry_too_soon"


def test_expiry_below_the_payloads_is_final_incorrect_cltv_expiry() -> None:
    with pytest.raises(FinalIncorrectCltvExpiry) as info:
        check_final_htlc(1000, 119, FINAL)
    assert (info.value.failure_code, info.value.tlv_type) == (18, 4)  # outgoing_cltv_value


def test_amount_below_the_payloads_is_final_incorrect_htlc_amount() -> None:
    with pytest.raises(FinalIncorrectHtlcAmount) as info:
        check_final_htlc(1001, 118, FINAL)
    assert (info.value.failure_code, info.value.tlv_type) == (19, 2)  # amt_to_forward


def test_checks_run_in_the_specs_order() -> None:
    """An HTLC wrong in every way gets the first failure of BOLT 4's list."""
    everything_wrong = FINAL._replace(cltv_expiry=50)
    with pytest.raises(PaymentError) as info:
        check_final_htlc(5000, 60, everything_wrong)
    assert info.value.reason == "expiry_too_soon"
    with pytest.raises(FinalIncorrectCltvExpiry):
        check_final_htlc(5000, 119, FINAL)
