"""The generated documentation holds: docs/cli.md is what the argparse definitions produce
now, and the JSON outputs validate against docs/schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import explain, trace_route
from sphinxamp.cli._reference import render_reference
from sphinxamp.cli._route_file import parse_route
from sphinxamp.cli.trace import trace_json
from sphinxamp.conformance.schema import problems

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "schemas"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return loaded


def check(value: Any, name: str) -> None:
    root = schema(name)
    assert list(problems(value, root, root)) == []


def test_cli_reference_is_current() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert text == render_reference(), \
        "docs/cli.md is stale: run python -m sphinxamp.cli._reference"


def test_reference_covers_every_command() -> None:
    text = render_reference()
    for command in ("explain", "trace", "replay gc", "onion build", "onion peel", "demo"):
        assert f"## `sphinxamp {command}`" in text


ONION = json.loads((ROOT / "vectors" / "bolt04-onion.json").read_text())["cases"][0][
    "expect"]["onion"]
EXPLAIN_INPUTS = [
    (ONION, {"node_key": bytes([0x41]) * 32, "assoc_data": bytes([0x42]) * 32}),
    ("02023a98040205dc0608000000000000000102", {}),
    ("400f00000000000003e8000c3500", {}),
    ("fd00", {}),
    ("", {}),
]


@pytest.mark.parametrize(("data", "keys"), EXPLAIN_INPUTS)
def test_explain_json_fits_its_schema(data: str, keys: dict[str, Any]) -> None:
    check(explain(bytes.fromhex(data), **keys).to_json(), "explain")


def test_explain_schema_refuses_a_broken_tree() -> None:
    doc = explain(bytes.fromhex("020203e8")).to_json()
    doc["fields"][0]["offset"] = -1
    root = schema("explain")
    assert list(problems(doc, root, root))


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("route-*.json")))
def test_examples_fit_the_route_schema_and_trace_fits_its_own(example: Path) -> None:
    route = json.loads(example.read_text())
    check(route, "route")
    spec, drawn = parse_route(example.read_text())
    fail_at = len(route["hops"]) + len(route.get("blinded", {}).get("hops", [])) - 1
    out = trace_json(trace_route(spec, fail_at=fail_at, code="temporary_node_failure"),
                     spec.session_key, drawn)
    check(out, "trace")


def test_error_object_fits_its_schema() -> None:
    from sphinxamp.cli._common import error_object
    from sphinxamp.errors import InvalidOnionPayload

    err = InvalidOnionPayload("bad", field="payload", offset=3, tlv_type=2, reason="x")
    check(error_object(err), "error")
