"""Hop payload, role `intermediate`, fast checks (BOLT 4 › `payload` format).

Same corpus as `fuzz_payload_intermediate.py`; the harness and its invariants are in
`_payload_fast.py`.
"""

import _common
import _payload_fast

test_one_input = _payload_fast.harness("intermediate")

if __name__ == "__main__":
    _common.main(test_one_input)
