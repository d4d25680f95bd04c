"""Every number a user gives the command line has a bound, and its --help states it: each
option's type is one of the bounded types of `sphinxamp.cli._options` (their `low` and `high`
are read here), and its help names both ends. Any other type must refuse an integer of 31
digits, so a numeric option cannot slip in as a bare `int` or `float`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from sphinxamp.cli import build_parser
from sphinxamp.cli._options import BoundedFloat, BoundedInt, bound_text

HUGE = str(10**30)


def _options(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _options(child, (*path, name))
        elif action.type is not None:
            yield " ".join((*path, "/".join(action.option_strings) or action.dest)), action


OPTIONS = sorted(_options(build_parser()), key=lambda item: item[0])


def _float_text(value: float) -> str:
    return f"{value:.0f}"


@pytest.mark.parametrize(("name", "action"), OPTIONS, ids=[name for name, _ in OPTIONS])
def test_every_number_is_bounded_in_its_help(name: str, action: argparse.Action) -> None:
    kind = action.type
    low, high = getattr(kind, "low", None), getattr(kind, "high", None)
    if low is None or high is None:
        assert kind not in (int, float), f"{name}: a bare {kind} has no bound"
        try:
            value = kind(HUGE)  # type: ignore[misc, operator]
        except (argparse.ArgumentTypeError, ValueError, TypeError):
            return
        assert not isinstance(value, int | float), f"{name} takes {HUGE} without a bound"
        return
    assert isinstance(kind, BoundedInt | BoundedFloat) or callable(kind), name
    text = action.help or ""
    if isinstance(kind, BoundedFloat):
        ends = [_float_text(high)]
        ends.append("above 0" if kind.open_low else _float_text(low))
    else:
        ends = [bound_text(low), bound_text(high)]
    for end in ends:
        assert end in text, f"{name}: --help {text!r} does not state the bound {end}"
    with pytest.raises(argparse.ArgumentTypeError):
        kind(HUGE)
    with pytest.raises(argparse.ArgumentTypeError):
        kind("-1" if low == 0 else str(low - 1))


def test_the_walk_finds_the_numeric_options() -> None:
    names = {name for name, _ in OPTIONS}
    for expected in ("amp pay --amount-msat", "onion peel --cltv-expiry", "trace --fail-at",
                     "replay gc --height", "failure create --pad-to", "amp receive --hold"):
        assert expected in names


def test_bounds_are_stated_as_the_wire_types() -> None:
    assert bound_text(2**64 - 1) == "2^64-1" and bound_text(2**32 - 1) == "2^32-1"
    assert bound_text(65469) == "65469"
