"""The four fast hop-payload targets, `fuzz_payload_<role>_fast.py`, one harness
parameterised by role (the oracle targets' counterpart is `_payload_target.py`).

Input and corpus: those of `fuzz_payload_<role>.py` (`corpus/payload_<role>/`,
`_targets.py`): the payload TLV stream without its BigSize length prefix.
Invariants, one call of `decode_payload(data, role, path_key_from_htlc=...)`: totality (only
`InvalidOnionPayload`, with a reason and an offset inside the input); a payload the role
accepts re-encodes to exactly the input. A blinded role is checked in one path-key context
per input, picked by its length (none, one from the HTLC, none from the HTLC), where the
oracle target checks all three. Memory bound on one input in 1024 (`_fast`). Not here: the
plain decode beside the role decode, `validate_role` reproducing a role refusal, the role
rules checked from the spec's tables, determinism (`_checks.check_payload`).
"""

from __future__ import annotations

from collections.abc import Callable

import _common
import _fast
from _payload_target import role_of

from sphinxamp._payload import decode_payload
from sphinxamp.errors import InvalidOnionPayload

_CONTEXTS: tuple[bool | None, ...] = (None, True, False)


def harness(name: str) -> Callable[[bytes], None]:
    """The test_one_input of target `payload_<name>_fast`."""
    role = role_of(name)
    contexts = _CONTEXTS if role.blinded else (None,)

    def body(data: bytes) -> None:
        try:
            payload = decode_payload(data, role,
                                     path_key_from_htlc=contexts[len(data) % len(contexts)])
        except _common.REFUSALS as exc:
            _fast.refused(exc, len(data), InvalidOnionPayload)
            return
        encoded = payload.encode()
        assert encoded == data, f"payload round trip: {data.hex()} -> {encoded.hex()}"

    return _fast.harness(body, f"payload_{name}_fast")
