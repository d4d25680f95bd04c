"""The names the top level exported before its surface was layered (`MOVED`): each still
resolves through `sphinxamp.<name>` for one release, with a DeprecationWarning that names its
replacement and points at the caller's line; each replacement exists and, where it names an
object rather than a call, is the very object returned; and no moved name is back in the
top level's `__all__`."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import pytest

import sphinxamp
from sphinxamp._deprecated import MOVED


def _resolve(path: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise AssertionError(f"nothing importable in {path!r}")


def _target(location: str) -> Any:
    module, _, attribute = location.partition(":")
    return getattr(importlib.import_module(module), attribute)


def test_moved_is_not_empty_and_well_formed() -> None:
    assert len(MOVED) > 40
    for name, (location, replacement) in MOVED.items():
        assert location.count(":") == 1, name
        assert replacement.startswith("sphinxamp."), name


@pytest.mark.parametrize("name", sorted(MOVED))
def test_moved_name_resolves_with_a_warning_naming_its_replacement(name: str) -> None:
    location, replacement = MOVED[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(sphinxamp, name)
    assert value is _target(location)
    (warning,) = caught
    assert warning.category is DeprecationWarning
    assert str(warning.message) == f"sphinxamp.{name} is deprecated: use {replacement}"
    assert warning.filename == __file__  # stacklevel points at the caller, not the package


@pytest.mark.parametrize("name", sorted(MOVED))
def test_replacement_is_importable(name: str) -> None:
    location, replacement = MOVED[name]
    if "(" in replacement:
        # A call that does what the old function did (e.g. `create_failure(…).packet`): the
        # function it calls must exist and be callable.
        assert callable(_resolve(replacement.split("(", 1)[0]))
    else:
        assert _resolve(replacement) is _target(location)


def test_no_moved_name_is_exported_again() -> None:
    assert not set(MOVED) & set(sphinxamp.__all__)
    for name in sphinxamp.__all__:
        assert name in vars(sphinxamp), name  # exported names need no __getattr__


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        sphinxamp.no_such_name  # noqa: B018
