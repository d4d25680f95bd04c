"""Failure message ops (BOLT 4 › Returning Errors): answered unsupported until the library's
failure module is part of the build."""

from __future__ import annotations

from .protocol import Op

_RULE = "BOLT 4 › Returning Errors"

FAILURE_OPS = (
    Op("failure_create", _RULE, ("packet",)),
    Op("failure_wrap", _RULE, ("packet",)),
    Op("failure_decrypt", _RULE, ("origin_index", "failure_message")),
)
