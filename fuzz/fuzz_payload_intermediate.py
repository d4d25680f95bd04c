"""Hop payload, role `intermediate`: an unblinded forwarding hop (BOLT 4 › `payload` format).

Input: the payload TLV stream, without its BigSize length prefix.
Invariants (`_checks.check_payload`): every refusal is `InvalidOnionPayload` (PERM|22); a
payload the plain decoder accepts re-encodes to exactly the input and decodes back equal; the
role decode either returns the same value or refuses with a role reason that
`validate_role` reproduces at the same offset; an accepted payload has every record the
spec requires of the role (and, when blinded, nothing else); deterministic; memory O(len).
"""

import _common
from _checks import check_payload

from sphinxamp._payload import Role


def test_one_input(data: bytes) -> None:
    check_payload(data, Role.INTERMEDIATE)


if __name__ == "__main__":
    _common.main(test_one_input)
