"""Hypothesis over arbitrary bytes for every parser of untrusted input that route blinding,
onion messages and failures added: nothing but the library's own decode errors escapes, an
accepted value re-encodes to its bytes, and the origin-side readers never raise for the
bytes a peer sent (their fuzz harnesses check the same under atheris)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from sphinxamp import (
    EncryptedData,
    FailureMessage,
    OnionMessagePayload,
    decrypt_failure,
    process_onion_message,
)
from sphinxamp.blinding import OnionMessage, decode_blinded_path
from sphinxamp.errors import DecodeError
from sphinxamp.failures import verify_attribution

SECRETS = [bytes([i + 1]) * 32 for i in range(5)]
NODE_KEY = bytes([0x41]) * 32


def decoded_or_refused(decode: Callable[[bytes], object], data: bytes) -> object | None:
    try:
        return decode(data)
    except DecodeError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(data), (exc.offset, len(data))
        return None


@given(st.binary(max_size=300))
def test_failure_message_round_trips_or_refuses(data: bytes) -> None:
    msg = decoded_or_refused(FailureMessage.decode, data)
    if msg is not None:
        assert isinstance(msg, FailureMessage) and msg.encode() == data


@given(st.binary(max_size=300))
def test_encrypted_data_round_trips_or_refuses(data: bytes) -> None:
    value = decoded_or_refused(EncryptedData.decode, data)
    if value is not None:
        assert isinstance(value, EncryptedData) and value.encode() == data


@given(st.binary(max_size=300))
def test_onionmsg_tlv_round_trips_or_refuses(data: bytes) -> None:
    value = decoded_or_refused(OnionMessagePayload.decode, data)
    if value is not None:
        assert isinstance(value, OnionMessagePayload) and value.encode() == data


@given(st.binary(max_size=400))
def test_blinded_path_and_onion_message_frames_refuse_cleanly(data: bytes) -> None:
    decoded_or_refused(decode_blinded_path, data)
    message = decoded_or_refused(OnionMessage.parse, data)
    if message is not None:
        assert isinstance(message, OnionMessage) and message.to_bytes() == data


@given(st.binary(max_size=1500))
def test_onion_message_processing_never_raises(data: bytes) -> None:
    process_onion_message(data, NODE_KEY)  # a result or Dropped, never an exception


@given(st.binary(max_size=1200), st.one_of(st.none(), st.binary(max_size=1000)))
def test_failure_decryption_never_raises(packet: bytes, attribution: bytes | None) -> None:
    result = decrypt_failure(packet, SECRETS, attribution)
    assert result.hop_index is None or 0 <= result.hop_index < len(SECRETS)


@given(st.binary(max_size=1000))
def test_attribution_verification_refuses_only_a_wrong_length(data: bytes) -> None:
    try:
        verdicts = verify_attribution(data, SECRETS)
    except DecodeError:
        assert len(data) != 920
        return
    assert len(verdicts) <= len(SECRETS)
