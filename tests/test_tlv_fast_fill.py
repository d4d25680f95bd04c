"""How the generated TLV decoders build slotted values (`_tlv_field.fill_class`): a plain twin
with the same slots is filled by attribute stores and then given the value's class. The
values must be indistinguishable from those the class's own constructor makes (same class,
equal, hashed alike, still frozen), and a class CPython would not let an object change to
keeps being filled through its slot setters.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sphinxamp.wire import TU64, FixedBytes, RecordSpec, Struct, TlvSchema
from sphinxamp.wire._records import AmpRecord, PaymentData
from sphinxamp.wire._tlv import TlvRecord
from sphinxamp.wire._tlv_field import fill_class


@dataclasses.dataclass(frozen=True, slots=True)
class Pair:
    tag: bytes
    count: int


@dataclasses.dataclass(frozen=True)
class Loose:  # no slots: nothing to fill
    tag: bytes
    count: int


@dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
class Weak:  # a weakref slot besides the fields: not the fields' layout alone
    tag: bytes
    count: int


class Derived(Pair):  # a base of its own: its layout is its base's plus nothing
    __slots__ = ()


@pytest.mark.parametrize(("cls", "args"), [
    (PaymentData, (bytes(range(32)), 1_000_000_000)),
    (AmpRecord, (bytes(32), bytes(range(32)), 3)),
    (TlvRecord, (65537, b"custom")),
    (Pair, (b"t", 7)),
])
def test_a_filled_value_is_the_constructed_one(cls: Any, args: tuple[Any, ...]) -> None:
    names = tuple(f.name for f in dataclasses.fields(cls))
    fill = fill_class(cls, names)
    assert fill is not None
    obj = fill()
    for name, value in zip(names, args, strict=True):
        setattr(obj, name, value)
    obj.__class__ = cls
    built = cls(*args)
    assert type(obj) is cls
    assert obj == built and hash(obj) == hash(built) and repr(obj) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, names[0], args[0])


@pytest.mark.parametrize(("cls", "names"), [
    (Loose, ("tag", "count")),
    (Pair, ("count", "tag")),  # not its slots' order
    (Pair, ("tag",)),
    (Weak, ("tag", "count")),
    (Derived, ("tag", "count")),
    (lambda tag, count: (tag, count), ("tag", "count")),  # not a class
])
def test_no_fill_for_what_is_not_exactly_those_slots(cls: Any, names: tuple[str, ...]) -> None:
    assert fill_class(cls, names) is None


@pytest.mark.parametrize(("cls", "filled"), [(Pair, True), (Loose, False), (Weak, False)])
def test_decoders_fill_what_they_can_and_set_the_rest(cls: Any, filled: bool) -> None:
    schema = TlvSchema(f"fill_{cls.__name__}", [
        RecordSpec(2, "pair", Struct([("tag", FixedBytes(1)), ("count", TU64)], cls))])
    source = schema._plans[1].source()
    assert ("o0 = F0()" in source) is filled
    named, _, _, _ = schema.decode_named(bytes([2, 2]) + b"t\x07")
    assert type(named["pair"]) is cls and named["pair"] == cls(b"t", 7)


class Sly(str):
    """A name that prints as code: only a plain `str` identifier may be written as a key."""

    def __format__(self, spec: str) -> str:
        return 'x"] = 0; import os; values["x'


@pytest.mark.parametrize("name", ['a"] = 0; import os; #', "not an identifier", Sly("plain")])
def test_a_record_name_is_a_literal_key_only_when_a_plain_identifier(name: str) -> None:
    schema = TlvSchema("keys", [RecordSpec(1, "plain", TU64), RecordSpec(3, name, TU64)])
    source = schema._plans[1].source()
    assert 'values["plain"] = ' in source and "values[K1] = " in source
    assert "import os" not in source and "identifier" not in source
    named, _, _, _ = schema.decode_named(bytes([1, 1, 5, 3, 1, 7]))
    assert named == {"plain": 5, name: 7}
