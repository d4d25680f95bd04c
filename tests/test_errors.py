"""One exception hierarchy (sphinxamp.errors): every exception class of the package lives there
and is exported, and each sits in exactly one branch: `DecodeError` (the bytes do not parse),
`PolicyError` (they parse, and a rule of the BOLTs or the node's state refuses them),
`CallerError` (a value the caller handed in) or `StoreError`.

The branch table below is written from the BOLT text, class by class, not computed from the
classes; a policy refusal still answers the peer exactly as BOLT 4 › Failure Messages and
BOLT 2 › Removing an HTLC say, with the refusal underneath as `cause`.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import pkgutil

import pytest
from coincurve import PrivateKey as CcKey

import sphinxamp
from sphinxamp import build_onion, process_hop
from sphinxamp import errors as errors_module
from sphinxamp.errors import (
    AmountBelowMinimum,
    CallerError,
    DecodeError,
    InvalidOnionBlinding,
    PolicyError,
    ReplayedOnion,
    SphinxampError,
    StoreError,
)
from sphinxamp.onion import MemoryReplayLog
from tests.blinded_route import BlindedHopSpec, blinded_route_onion, blinded_tlv

BRANCHES = (DecodeError, PolicyError, CallerError, StoreError)
D, P, C, S = "decode", "policy", "caller", "store"
NONE = "none"  # a base above the branches: its members name theirs

# BOLT 1 framing and BOLT 4 › Onion Decryption: bytes that do not parse are DecodeErrors; a
# replay parses and is refused by the node's log. Route Blinding: data that does not decrypt
# or whose structure is wrong (no next hop, both next hops, no payment_relay) does not parse;
# payment_constraints, allowed_features, the final values, path_id and payment_relay taking more
# than the HTLC holds are rules about values that parsed. Onion Messages: a message that does
# not frame or is not a valid onionmsg_tlv does not parse; a forwarding hop with more than
# encrypted_recipient_data or a path_id, or a final payload with two contents, breaks a
# reader rule ("MUST ignore the message").
BRANCH_OF: dict[str, str] = {
    "SphinxampError": NONE,
    "DecodeError": D, "PolicyError": P, "CallerError": C, "StoreError": S,
    "BigSizeError": D, "TlvError": D, "WireError": D,
    "BadOnionError": NONE,
    "InvalidOnionVersion": D, "InvalidOnionHmac": D, "InvalidOnionKey": D,
    "InvalidOnionBlinding": D,
    "ReplayedOnion": P,
    "InvalidOnionPayload": D,
    "PaymentError": P, "FinalIncorrectCltvExpiry": P, "FinalIncorrectHtlcAmount": P,
    "EncryptedDataError": NONE,
    "InvalidPathKey": D, "MissingEncryptedData": D, "UndecryptableData": D,
    "MalformedEncryptedData": D, "UnknownEvenEncryptedType": D, "ConflictingNextHop": D,
    "MissingNextHop": D, "MissingPaymentRelay": D,
    "PaymentConstraintsViolated": P, "ExpiryAboveMaximum": P, "AmountBelowMinimum": P,
    "UnknownAllowedFeature": P, "FinalValuesMismatch": P, "PathIdMismatch": P,
    "RelayUnderflow": P,
    "OnionMessageError": NONE,
    "MalformedOnionMessage": D, "MalformedOnionMessagePayload": D, "InvalidReplyPath": D,
    "ContentNotTlvStream": D, "MalformedBlindedPath": D,
    "UnexpectedPayloadField": P, "PathIdAtForwardingHop": P, "TooManyPayloadFields": P,
    "EncodeError": C, "InvalidArgument": C, "InvalidSecret": C, "AdapterStartError": C,
    "StoreConflict": S, "StoreBusy": S,
    # Trampoline routing (lightning/bolts#836): a payload that does not parse, or a node's
    # refusal to relay.
    "TrampolineError": NONE, "InvalidTrampolinePayload": D,
    "TemporaryTrampolineFailure": P, "TrampolineFeeOrExpiryInsufficient": P,
    "UnknownNextTrampoline": P,
}

# The wire failure code each family base carries for its members (BOLT 4 › Failure Messages).
FAMILY_CODES = {"EncryptedDataError": 0xC018, "InvalidOnionBlinding": 0xC018,
                "ReplayedOnion": 0xC004, "PaymentError": 0x400F}


def _package_exceptions() -> dict[str, type[BaseException]]:
    """Every exception class a module of the package defines (the CLI, which only prints,
    and __main__, which runs it, are not walked)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(sphinxamp.__path__, "sphinxamp."):
        if info.name.startswith("sphinxamp.cli") or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.startswith("sphinxamp"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_exception_class_lives_in_errors_and_is_exported() -> None:
    found = _package_exceptions()
    assert "sphinxamp.errors.AmountBelowMinimum" in found  # the walk reaches errors itself
    for where, cls in found.items():
        assert cls.__module__ == "sphinxamp.errors", f"{where} is defined outside errors"
        assert getattr(errors_module, cls.__name__) is cls, where
        assert cls.__name__ in errors_module.__all__, f"{cls.__name__} not in __all__"


def test_errors_exports_exceptions_only_and_each_once() -> None:
    names = errors_module.__all__
    assert len(names) == len(set(names))
    for name in names:
        obj = getattr(errors_module, name)
        assert inspect.isclass(obj) and issubclass(obj, SphinxampError), name


def test_branches_are_pairwise_unrelated() -> None:
    for a, b in itertools.permutations(BRANCHES, 2):
        assert not issubclass(a, b), f"{a.__name__} under {b.__name__}"


def test_the_table_names_every_exported_class() -> None:
    assert set(BRANCH_OF) == set(errors_module.__all__)


@pytest.mark.parametrize("name", sorted(BRANCH_OF))
def test_each_class_sits_in_its_branch_only(name: str) -> None:
    cls = getattr(errors_module, name)
    assert issubclass(cls, SphinxampError)
    got = [b.__name__ for b in BRANCHES if issubclass(cls, b)]
    want = {D: ["DecodeError"], P: ["PolicyError"], C: ["CallerError"], S: ["StoreError"],
            NONE: []}[BRANCH_OF[name]]
    assert got == want, f"{name}: {got}, expected {want}"


@pytest.mark.parametrize("family", ["BadOnionError", "EncryptedDataError", "OnionMessageError"])
def test_families_spanning_branches_keep_their_base(family: str) -> None:
    base = getattr(errors_module, family)
    members = [getattr(errors_module, n) for n in BRANCH_OF
               if n != family and issubclass(getattr(errors_module, n), base)]
    assert {BRANCH_OF[m.__name__] for m in members} == {D, P}


@pytest.mark.parametrize("name", sorted(FAMILY_CODES))
def test_failure_codes_are_the_ones_the_wire_carries(name: str) -> None:
    assert getattr(errors_module, name).failure_code == FAMILY_CODES[name]
    if name == "EncryptedDataError":
        assert AmountBelowMinimum.failure_code == 0xC018


def test_invalid_argument_is_still_a_value_error() -> None:
    assert issubclass(errors_module.InvalidArgument, ValueError)
    assert issubclass(errors_module.StoreConflict, RuntimeError)


def test_attributes_survive_every_base() -> None:
    err = AmountBelowMinimum("below", field="payment_constraints", offset=3, tlv_type=12,
                             reason="amount_below_minimum")
    assert (err.field, err.offset, err.tlv_type, err.reason) == (
        "payment_constraints", 3, 12, "amount_below_minimum")
    assert err.failure_code == 0xC018 and err.failure_name == "invalid_onion_blinding"
    assert err.cause is None and err.sha256_of_onion is None and err.failure_message is None


# --- policy refusals through process_hop answer as before -----------------------------------

AD = bytes([0x42]) * 32
SESSION = bytes([0x41]) * 32
PATH_SESSION = bytes([0x36]) * 32
KEYS = [bytes([i]) * 32 for i in range(0x81, 0x83)]
PUB = CcKey(KEYS[0]).public_key.format()


def _constrained_relay(htlc_minimum_msat: int) -> bytes:
    """A forwarding hop's encrypted_data_tlv: short_channel_id, payment_relay (cltv delta 144,
    100 ppm, base 1000), payment_constraints (max_cltv_expiry 1_000_000, the minimum)."""
    return blinded_tlv({
        2: bytes.fromhex("0000010000020003"),
        10: (144).to_bytes(2, "big") + (100).to_bytes(4, "big") + (1000).to_bytes(2, "big"),
        12: (1_000_000).to_bytes(4, "big") + htlc_minimum_msat.to_bytes(2, "big"),
    })


def _final_data() -> bytes:
    return blinded_tlv({6: b"path id"})


@pytest.mark.parametrize(("introduction", "message"), [
    (False, "update_fail_malformed_htlc"), (True, "update_fail_htlc")])
def test_amount_below_htlc_minimum_answers_invalid_onion_blinding(introduction: bool,
                                                                   message: str) -> None:
    """BOLT 4 › Route Blinding: an amount below payment_constraints.htlc_minimum_msat MUST be
    refused, and inside a blinded route the answer is invalid_onion_blinding; BOLT 2: in
    update_fail_malformed_htlc when the HTLC carried path_key, else in update_fail_htlc."""
    onion, path_keys = blinded_route_onion(
        SESSION, [], [BlindedHopSpec(KEYS[0], b"", _constrained_relay(10_000)),
                      BlindedHopSpec(KEYS[1], bytes.fromhex("020203e8 04020190 1203 0f4240"),
                                     _final_data())],
        PATH_SESSION, first_is_introduction=introduction)
    path_key = None if introduction else path_keys[0]
    with pytest.raises(InvalidOnionBlinding) as info:
        process_hop(onion, KEYS[0], AD, path_key=path_key, incoming_amount_msat=5_000,
                    incoming_cltv_expiry=600)
    err = info.value
    assert err.failure_code == 0xC018 and err.failure_message == message
    assert err.sha256_of_onion == hashlib.sha256(onion).digest()
    cause = err.cause
    assert type(cause) is AmountBelowMinimum
    assert isinstance(cause, PolicyError) and not isinstance(cause, DecodeError)
    assert cause.reason == "amount_below_minimum" and cause.tlv_type == 12
    # The refusal names the role of the layer it refused, so no caller derives it again.
    assert (err.role, err.introduction_node) == ("blinded-intermediate", introduction)


def test_a_replayed_onion_answers_invalid_onion_version() -> None:
    """A replay parses and is refused by the log: a PolicyError, answered as lnd answers it
    (invalid_onion_version in update_fail_malformed_htlc, with sha256_of_onion)."""
    onion = build_onion(SESSION, [(PUB, bytes.fromhex("020203e8 040190"))], AD).to_bytes()
    log = MemoryReplayLog()
    process_hop(onion, KEYS[0], AD, replay_log=log, incoming_amount_msat=1_000,
                incoming_cltv_expiry=144, current_block_height=100)
    with pytest.raises(ReplayedOnion) as info:
        process_hop(onion, KEYS[0], AD, replay_log=log, incoming_amount_msat=1_000,
                    incoming_cltv_expiry=144, current_block_height=100)
    err = info.value
    assert isinstance(err, PolicyError) and not isinstance(err, DecodeError)
    assert err.failure_code == 0xC004 and err.reason == "replayed_onion"
    assert err.failure_message == "update_fail_malformed_htlc"
    assert err.sha256_of_onion == hashlib.sha256(onion).digest()
    assert (err.role, err.introduction_node) == ("final", False)


def test_an_unpeelable_onion_names_no_role() -> None:
    onion = bytearray(build_onion(SESSION, [(PUB, bytes.fromhex("020203e8 040190"))],
                                  AD).to_bytes())
    onion[-1] ^= 1  # the HMAC no longer matches: nothing was peeled
    with pytest.raises(errors_module.InvalidOnionHmac) as info:
        process_hop(bytes(onion), KEYS[0], AD, incoming_amount_msat=1_000,
                    incoming_cltv_expiry=144, current_block_height=100)
    assert info.value.role is None and info.value.introduction_node is None
