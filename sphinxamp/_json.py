"""JSON from outside the library (a file a user names, a line on a pipe) read under one rule:
what does not parse is an `InvalidArgument` (also a ValueError) naming what was read.

That includes nesting deeper than the parser can follow: Python's decoder recurses per level
and raises RecursionError past the interpreter's limit (about a thousand levels), which
would otherwise escape as a traceback from a 100,000-deep `[[[…]]]`.
"""

from __future__ import annotations

import json
from typing import Any

from sphinxamp.errors import InvalidArgument


def load_json(text: str | bytes, what: str = "input") -> Any:
    """`text` parsed as JSON, or `InvalidArgument` (field `what`, reason "not_json")."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidArgument(f"{what}: not JSON this reader can follow (nested too deeply)",
                              field=what, reason="not_json") from None
    except ValueError as exc:  # JSONDecodeError; UnicodeDecodeError for bytes
        raise InvalidArgument(f"{what}: not JSON ({exc})", field=what,
                              reason="not_json") from None


__all__ = ["load_json"]
