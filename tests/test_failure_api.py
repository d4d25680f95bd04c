"""The failure API: one function per node's task (BOLT 4 › Returning Errors), the message
answering a `process_hop` error, the names the top level exported before still resolving with
a DeprecationWarning, and typed signatures throughout."""

from __future__ import annotations

import hashlib
import inspect
import json
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import sphinxamp
import sphinxamp.failures
from sphinxamp import (
    FailureMessage,
    build_onion,
    create_failure,
    decrypt_failure,
    process_hop,
    public_key,
    wrap_failure,
)
from sphinxamp.errors import InvalidOnionHmac, InvalidOnionPayload, SphinxampError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _case(case_id: str) -> dict[str, Any]:
    doc = json.loads((VECTORS / "bolt04-failure.json").read_text())
    found: dict[str, Any] = next(c for c in doc["cases"] if c["id"] == case_id)
    return found


RETURN = _case("return-five-hops")
SECRETS = [bytes.fromhex(s) for s in RETURN["shared_secrets"]]
MESSAGE = bytes.fromhex(RETURN["failure_message"])
REASON = {h["hop_index"]: bytes.fromhex(h["reason"]) for h in RETURN["expect"]["hops"]}
ERRING = RETURN["erring_hop"]


def _deprecated(name: str) -> Any:
    with pytest.warns(DeprecationWarning, match=f"sphinxamp.{name} is deprecated"):
        return getattr(sphinxamp, name)


# --- the names the top level exported before -----------------------------------------------


def test_create_failure_packet_is_create_failure_without_attribution() -> None:
    old = _deprecated("create_failure_packet")(SECRETS[ERRING], MESSAGE)
    new = create_failure(SECRETS[ERRING], MESSAGE, attribution=False)
    assert new.attribution_data is None
    assert old == new.packet == REASON[ERRING]


def test_wrap_failure_packet_is_wrap_failure_without_attribution() -> None:
    wrap_old = _deprecated("wrap_failure_packet")
    old = new = REASON[ERRING]
    for hop in range(ERRING - 1, -1, -1):
        old = wrap_old(SECRETS[hop], old)
        reply = wrap_failure(SECRETS[hop], new, attribution=False)
        assert reply.attribution_data is None
        new = reply.packet
        assert old == new == REASON[hop]


def test_encode_failure_message_is_failure_message_create() -> None:
    message = _case("message-temporary-node-failure")
    wire = bytes.fromhex(message["failure_message"])
    name = message["expect"]["failure_name"]
    old = _deprecated("encode_failure_message")(name)
    assert old == FailureMessage.create(name).encode() == wire


def test_failure_message_from_error_is_failure_message_from_error() -> None:
    error = InvalidOnionPayload("bad payload", tlv_type=0xFD00, offset=5)
    old = _deprecated("failure_message_from_error")(error)
    assert old == FailureMessage.from_error(error)
    assert old.encode() == bytes.fromhex("4016" "fdfd00" "0005")


def test_decrypt_failure_packet_is_decrypt_failure() -> None:
    old = _deprecated("decrypt_failure_packet")(REASON[0], SECRETS)
    assert old == decrypt_failure(REASON[0], SECRETS)
    assert (old.hop_index, old.failure_message) == (ERRING, MESSAGE)


@pytest.mark.parametrize("name", ["create_failure_packet", "wrap_failure_packet",
                                  "encode_failure_message", "failure_message_from_error"])
def test_the_old_names_are_in_no_public_list(name: str) -> None:
    assert name not in sphinxamp.__all__ and name not in sphinxamp.failures.__all__
    assert name not in vars(sphinxamp) and name not in vars(sphinxamp.failures)


# --- the message answering a process_hop error ---------------------------------------------


def test_from_error_on_invalid_onion_payload_carries_type_and_offset() -> None:
    message = FailureMessage.from_error(InvalidOnionPayload("missing", tlv_type=4, offset=7))
    assert message.name == "invalid_onion_payload"
    assert dict(message.fields) == {"type": 4, "offset": 7}
    assert message.encode() == bytes.fromhex("4016" "04" "0007")


def test_from_error_without_a_tlv_type_sends_zeros() -> None:
    message = FailureMessage.from_error(InvalidOnionPayload("not a tlv stream"))
    assert message.encode() == bytes.fromhex("4016" "00" "0000")


def test_from_error_on_a_bad_onion_carries_sha256_of_onion() -> None:
    hops = [(public_key(bytes([1]) * 32), bytes.fromhex("0203" "0186a0" "0403" "0927c0"))]
    onion = build_onion(b"\x41" * 32, hops, b"\x42" * 32).to_bytes()
    damaged = onion[:-1] + bytes([onion[-1] ^ 1])  # the HMAC no longer verifies
    with pytest.raises(InvalidOnionHmac) as info:
        process_hop(damaged, bytes([1]) * 32, b"\x42" * 32)
    message = FailureMessage.from_error(info.value)
    sha = hashlib.sha256(damaged).digest()
    assert message.name == "invalid_onion_hmac"
    assert message.encode() == b"\xc0\x05" + sha


def test_from_error_fields_come_from_the_caller() -> None:
    error = SphinxampError("unknown payment hash", failure_code=0x400F)
    message = FailureMessage.from_error(error, htlc_msat=7, height=9)
    assert message.encode() == bytes.fromhex("400f" "0000000000000007" "00000009")


# --- typed signatures ----------------------------------------------------------------------


def _mentions_any(hint: object) -> bool:
    return hint is Any or any(_mentions_any(arg) for arg in typing.get_args(hint))


Named = tuple[str, Callable[..., object]]


def _callables(module: ModuleType, methods_of: tuple[str, ...]) -> Iterator[Named]:
    """The public functions of `module`'s `__all__`, and the public methods of the classes
    named in `methods_of`."""
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value):
            yield name, value
        if not (inspect.isclass(value) and name in methods_of):
            continue
        for attr, member in vars(value).items():
            if attr.startswith("_") and attr != "__init__":
                continue
            if isinstance(member, classmethod | staticmethod):
                member = member.__func__
            if isinstance(member, property) and member.fget is not None:
                member = member.fget
            if inspect.isfunction(member):
                yield f"{name}.{attr}", member


FAILURE_TYPES = ("FailureMessage", "DecryptedFailure", "FailureReply", "AttributionData",
                 "HopAttribution")


def test_the_any_check_sees_a_nested_any() -> None:
    def loose(value: dict[str, list[Any]]) -> None: ...

    assert _mentions_any(typing.get_type_hints(loose)["value"])


@pytest.mark.parametrize("module", [sphinxamp, sphinxamp.failures], ids=lambda m: m.__name__)
def test_no_public_failure_signature_takes_or_returns_any(module: ModuleType) -> None:
    checked = dict(_callables(module, FAILURE_TYPES))
    assert "failure_from_error" in checked or "FailureMessage.from_error" in checked
    loose = [name for name, fn in checked.items()
             if any(_mentions_any(h) for h in typing.get_type_hints(fn).values())]
    assert loose == []
