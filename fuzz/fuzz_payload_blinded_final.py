"""Hop payload, role `blinded-final`: the recipient at the end of a blinded route
(BOLT 4 › `payload` format).

Input: the payload TLV stream, without its BigSize length prefix.
Invariants (`_checks.check_payload`): every refusal is `InvalidOnionPayload` (PERM|22); a
payload the plain decoder accepts re-encodes to exactly the input and decodes back equal; the
role decode either returns the same value or refuses with a role reason that
`validate_role` reproduces at the same offset; an accepted payload has every record the
spec requires of the role (and, when blinded, nothing else); deterministic; memory O(len).
Each input is checked three times: with no path key in the HTLC context, with one (then the
payload must not carry current_path_key) and without one (then it must).
"""

import _common
from _checks import check_payload

from sphinxamp._payload import Role


def test_one_input(data: bytes) -> None:
    check_payload(data, Role.BLINDED_FINAL)


if __name__ == "__main__":
    _common.main(test_one_input)
