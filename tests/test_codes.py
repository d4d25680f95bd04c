"""The failure code table against BOLT 4 › Failure Messages (04-onion-routing.md, lightning/bolts
commit a3772650): every code's number, flags, name and data fields, copied by hand from the
spec's list, so a slip in the table cannot agree with itself."""

from __future__ import annotations

import pytest

from sphinxamp import FailureMessage
from sphinxamp._codes import BADONION, FLAG_NAMES, NODE, PERM, UPDATE
from sphinxamp.errors import InvalidArgument
from sphinxamp.failures import FAILURE_CODES, failure_code_name, resolve_code

# The channel_update field is `[u16:len] [len*byte:channel_update]` in the spec; the table
# spells that pair as one field of wire type "channel_update".
_SHA = (("sha256_of_onion", "sha256"),)
_UPD = (("channel_update", "channel_update"),)

# (number, name, flags, data fields): one row per `type:` line of the spec's list.
SPEC: list[tuple[int, str, tuple[str, ...], tuple[tuple[str, str], ...]]] = [
    (0x2002, "temporary_node_failure", ("NODE",), ()),
    (0x6002, "permanent_node_failure", ("PERM", "NODE"), ()),
    (0x6003, "required_node_feature_missing", ("PERM", "NODE"), ()),
    (0xC004, "invalid_onion_version", ("BADONION", "PERM"), _SHA),
    (0xC005, "invalid_onion_hmac", ("BADONION", "PERM"), _SHA),
    (0xC006, "invalid_onion_key", ("BADONION", "PERM"), _SHA),
    (0x1007, "temporary_channel_failure", ("UPDATE",), _UPD),
    (0x4008, "permanent_channel_failure", ("PERM",), ()),
    (0x4009, "required_channel_feature_missing", ("PERM",), ()),
    (0x400A, "unknown_next_peer", ("PERM",), ()),
    (0x100B, "amount_below_minimum", ("UPDATE",), (("htlc_msat", "u64"), *_UPD)),
    (0x100C, "fee_insufficient", ("UPDATE",), (("htlc_msat", "u64"), *_UPD)),
    (0x100D, "incorrect_cltv_expiry", ("UPDATE",), (("cltv_expiry", "u32"), *_UPD)),
    (0x100E, "expiry_too_soon", ("UPDATE",), _UPD),
    (0x400F, "incorrect_or_unknown_payment_details", ("PERM",),
     (("htlc_msat", "u64"), ("height", "u32"))),
    (0x0012, "final_incorrect_cltv_expiry", (), (("cltv_expiry", "u32"),)),
    (0x0013, "final_incorrect_htlc_amount", (), (("incoming_htlc_amt", "u64"),)),
    (0x1014, "channel_disabled", ("UPDATE",), (("disabled_flags", "u16"), *_UPD)),
    (0x0015, "expiry_too_far", (), ()),
    (0x4016, "invalid_onion_payload", ("PERM",), (("type", "bigsize"), ("offset", "u16"))),
    (0x0017, "mpp_timeout", (), ()),
    (0xC018, "invalid_onion_blinding", ("BADONION", "PERM"), _SHA),
]


def test_flag_bits_are_the_specs() -> None:
    """BOLT 4: 0x8000 BADONION, 0x4000 PERM, 0x2000 NODE, 0x1000 UPDATE."""
    assert (BADONION, PERM, NODE, UPDATE) == (0x8000, 0x4000, 0x2000, 0x1000)
    assert FLAG_NAMES == ((0x8000, "BADONION"), (0x4000, "PERM"), (0x2000, "NODE"),
                          (0x1000, "UPDATE"))


def test_the_table_holds_exactly_the_specs_codes() -> None:
    assert sorted(FAILURE_CODES) == sorted(row[0] for row in SPEC)


@pytest.mark.parametrize(("number", "name", "flags", "fields"), SPEC, ids=[r[1] for r in SPEC])
def test_code_matches_the_spec(number: int, name: str, flags: tuple[str, ...],
                               fields: tuple[tuple[str, str], ...]) -> None:
    code = FAILURE_CODES[number]
    assert (code.code, code.name, code.flags, code.fields) == (number, name, flags, fields)
    assert code.bad_onion == ("BADONION" in flags)
    assert failure_code_name(number) == name
    assert resolve_code(name) == number


def test_unassigned_and_absent_codes_have_no_name() -> None:
    assert failure_code_name(None) is None
    assert failure_code_name(0x2001) is None  # NODE|1 is not assigned
    assert failure_code_name(16) is None  # the list has no type 16


def test_unknown_name_is_the_callers_error() -> None:
    with pytest.raises(InvalidArgument):
        resolve_code("no_such_failure")


@pytest.mark.parametrize(("name", "fields", "wire"), [
    # u16 code ‖ [u16 len = 0] (an absent channel_update)
    ("temporary_channel_failure", {}, "1007" "0000"),
    # u16 code ‖ u64 htlc_msat ‖ u32 height
    ("incorrect_or_unknown_payment_details", {"htlc_msat": 1000, "height": 700_000},
     "400f" "00000000000003e8" "000aae60"),
    # u16 code ‖ bigsize type (0xfd 0x0100 for 256) ‖ u16 offset
    ("invalid_onion_payload", {"type": 256, "offset": 5}, "4016" "fd0100" "0005"),
    # u16 code ‖ u16 disabled_flags ‖ u16 len ‖ channel_update
    ("channel_disabled", {"disabled_flags": 1, "channel_update": b"\xaa\xbb"},
     "1014" "0001" "0002" "aabb"),
])
def test_field_layouts_on_the_wire(name: str, fields: dict[str, int | bytes], wire: str) -> None:
    """The table's wire types give the spec's byte layout, written out by hand."""
    assert FailureMessage.create(name, fields).encode().hex() == wire
