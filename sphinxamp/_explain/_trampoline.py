"""Hop payload records named by the profile that defines them, and the trampoline onion's
record found among them (lightning/bolts#836 › Packet Structure; Eclair PaymentOnion.scala,
PaymentOnionCodecs.onionTlvCodec).

Every record field of a payload says which profile names it ("bolt", "lnd", "trampoline",
"trampoline-legacy"). In one payload a type has one meaning: under "trampoline" type 14 is
outgoing_node_id, under "bolt" and "lnd" it is lnd's AMP record. A type only a trampoline
profile knows (20, 66100, ...) is refused under "bolt" as BOLT 1 refuses an unknown even
type; the explanation then says, as a note, which profile would read it.
"""

from __future__ import annotations

from sphinxamp._explain._tree import Explanation, Field
from sphinxamp.payments._trampoline import TRAMPOLINE_FORMATS
from sphinxamp.wire._records import (
    HOP_RECORDS_BY_TYPE,
    TRAMPOLINE_PROFILES,
    TRAMPOLINE_RECORDS,
    profile_record,
)

_TRAMPOLINE_BY_KEY = {(r.profile, r.type): r for r in TRAMPOLINE_RECORDS}


def record_type(f: Field) -> int | None:
    """The TLV type of a record field (its first child, the BigSize type), if it read."""
    if f.children and f.children[0].name == "type" and isinstance(f.children[0].value, int):
        return int(f.children[0].value)
    return None


def annotate_records(fields: list[Field], profile: str, ex: Explanation) -> None:
    """Name on each record the profile that defines it; under a trampoline profile describe
    its records from their definition; under "bolt" or "lnd" hint at a trampoline type."""
    for f in fields:
        rtype = record_type(f)
        if rtype is None:
            continue
        named = profile_record(rtype, profile)
        if named is not None:
            f.profile = named[1]
        if profile in TRAMPOLINE_PROFILES:
            _describe(f, rtype, profile)
        else:
            _hint(rtype, profile, ex)


def _describe(f: Field, rtype: int, profile: str) -> None:
    added = _TRAMPOLINE_BY_KEY.get((profile, rtype))
    if added is not None:
        f.meaning = f"{added.description} ({added.source})"
    elif rtype in HOP_RECORDS_BY_TYPE and rtype != 14:
        f.meaning = HOP_RECORDS_BY_TYPE[rtype].description


def _hint(rtype: int, profile: str, ex: Explanation) -> None:
    """A type the payload's profile does not read but a trampoline profile does."""
    if profile_record(rtype, profile) is not None:
        return
    for other in TRAMPOLINE_PROFILES:
        added = _TRAMPOLINE_BY_KEY.get((other, rtype))
        if added is not None:
            ex.notes.append(
                f"type {rtype} is {added.name} under profile {other} ({added.source}); "
                f"profile {profile} does not read it (explain --profile {other})")


def onion_record(fields: list[Field], profile: str) -> tuple[Field, bytes | None] | None:
    """The value field of the trampoline onion record under `profile` (20 in the proposal's
    format, 66100 in the legacy one) and the payload's current_path_key (which, inside a
    blinded trampoline path, tweaks the trampoline onion's ECDH), or None."""
    fmt = TRAMPOLINE_FORMATS.get(profile)
    if fmt is None:
        return None
    value, path_key = None, None
    for f in fields:
        rtype = record_type(f)
        if rtype == fmt.onion_type and len(f.children) == 3:
            value = f.children[2]
        elif rtype == 12 and len(f.children) == 3 and len(f.children[2].raw) == 33:
            path_key = f.children[2].raw
    return None if value is None else (value, path_key)


def mark_profile(f: Field, profile: str) -> None:
    """The trampoline onion's packet parts and its hop's frame are its format's."""
    f.profile = profile
    for child in f.children:
        if child.profile is None and record_type(child) is None:
            mark_profile(child, profile)


__all__ = ["annotate_records", "mark_profile", "onion_record", "record_type"]
