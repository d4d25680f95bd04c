"""Hop payload, role `final`, fast checks (BOLT 4 › `payload` format).

Same corpus as `fuzz_payload_final.py`; the harness and its invariants are in
`_payload_fast.py`.
"""

import _common
import _payload_fast

test_one_input = _payload_fast.harness("final")

if __name__ == "__main__":
    _common.main(test_one_input)
