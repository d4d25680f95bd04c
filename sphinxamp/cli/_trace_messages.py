"""`sphinxamp trace --messages`: the BOLT 2 messages on every link of the traced payment, as
JSON (`links`: [{"index", "messages": [{"direction", "type", "name", "hex", the decoded
fields}]}]) and as text (each message's hex, then its decoded fields)."""

from __future__ import annotations

from typing import Any

from sphinxamp import Trace
from sphinxamp.cli import _render as render
from sphinxamp.messages import message_to_json

# Decoded fields longer than this many hex digits are shortened in the text form (the
# message's full hex is printed above them).
_SHORT = 66


def links_json(trace: Trace) -> list[dict[str, Any]]:
    return [{"index": link.index,
             "messages": [{"direction": m.direction, **message_to_json(m.message),
                           "hex": m.wire.hex()} for m in link.messages]}
            for link in trace.links]


def _field(value: Any) -> str:
    if isinstance(value, str) and len(value) > _SHORT:
        return f"{value[:_SHORT]}… ({len(value) // 2} bytes)"
    return render.human_value(value) if not isinstance(value, str) else value


def links_lines(links: list[dict[str, Any]]) -> list[str]:
    lines = ["", "messages on each link (link i: hop i-1, or the origin, to hop i):"]
    for link in links:
        i = link["index"]
        lines.append(f"link {i} ({'origin' if i == 0 else f'hop {i - 1}'} ↔ hop {i}):")
        for m in link["messages"]:
            arrow = "→" if m["direction"] == "forward" else "←"
            lines.append(f"  {arrow} {m['name']} ({m['type']}), {len(m['hex']) // 2} bytes: "
                         f"{m['hex']}")
            lines += [f"      {key} = {_field(value)}" for key, value in m.items()
                      if key not in ("direction", "type", "name", "hex")]
    return lines


__all__ = ["links_json", "links_lines"]
