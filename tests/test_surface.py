"""The public surface in layers: the top level offers the tasks (at most 60 names), named
public modules offer the rest, every name has exactly one public home, and every type a public
signature mentions can be imported from one."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import typing
from collections import defaultdict
from types import ModuleType
from typing import Any

import sphinxamp

PUBLIC = ["sphinxamp", "sphinxamp.errors", "sphinxamp.wire", "sphinxamp.primitives",
          "sphinxamp.onion", "sphinxamp.blinding", "sphinxamp.failures", "sphinxamp.payments",
          "sphinxamp.receiver", "sphinxamp.messages", "sphinxamp.debug", "sphinxamp.conformance"]


def modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in PUBLIC]


def exported_ids() -> set[int]:
    return {id(getattr(m, n)) for m in modules() for n in m.__all__}


def _classes_in(hint: Any) -> list[type]:
    found = [hint] if isinstance(hint, type) else []
    for arg in typing.get_args(hint):
        found += _classes_in(arg)
    return found


def _hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except (NameError, TypeError):
        return {}


def _signature_hints(obj: Any) -> list[Any]:
    if not inspect.isclass(obj):
        return list(_hints(obj).values()) if callable(obj) else []
    hints = [h for name, h in _hints(obj).items() if not name.startswith("_")]
    for name, member in vars(obj).items():
        if name.startswith("_") and name != "__init__":
            continue
        fn = member.__func__ if isinstance(member, classmethod | staticmethod) else member
        fn = fn.fget if isinstance(fn, property) else fn
        if callable(fn):
            hints += list(_hints(fn).values())
    return hints


def unexported_signature_types() -> dict[str, set[str]]:
    exported, missing = exported_ids(), defaultdict(set)
    for module in modules():
        for name in module.__all__:
            for hint in _signature_hints(getattr(module, name)):
                for cls in _classes_in(hint):
                    if cls.__module__.startswith("sphinxamp") and id(cls) not in exported:
                        missing[f"{cls.__module__}.{cls.__qualname__}"].add(name)
    return dict(missing)


def test_the_top_level_is_small() -> None:
    assert len(sphinxamp.__all__) <= 60
    for task in ("process_hop", "build_onion", "create_failure", "create_blinded_path",
                 "process_onion_message", "build_amp_payment", "Receiver", "explain"):
        assert task in sphinxamp.__all__


def test_every_name_has_exactly_one_public_home() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for module in modules():
        for name in module.__all__:
            homes[name].append(module.__name__)
    assert {n: h for n, h in homes.items() if len(h) > 1} == {}


def test_every_public_signature_type_is_exported() -> None:
    assert unexported_signature_types() == {}


@dataclasses.dataclass
class Hidden:
    x: int


def task(h: Hidden | None) -> list[Hidden]:
    return [h] if h else []


def test_the_signature_check_sees_a_missing_type() -> None:
    assert Hidden in [c for h in _signature_hints(task) for c in _classes_in(h)]
    assert Hidden in [c for h in _signature_hints(Hidden) for c in _classes_in(h)] or \
        int in [c for h in _signature_hints(Hidden) for c in _classes_in(h)]


def test_no_public_name_is_private() -> None:
    for module in modules():
        assert [n for n in module.__all__ if n.startswith("_")] == []
