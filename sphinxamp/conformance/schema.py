"""A validator for the subset of JSON Schema the protocol's schema uses ($ref into $defs,
type, const, enum, pattern, properties, required, additionalProperties: false, items,
minItems, minimum, maximum, oneOf): the runner checks answers with it, with no dependency."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sphinxamp.conformance.protocol import load_schema

_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "boolean": bool,
                          "null": type(None)}


def _is(value: object, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def problems(value: object, node: Mapping[str, Any], root: Mapping[str, Any],
             path: str = "$") -> Iterator[str]:
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        yield from problems(value, root["$defs"][name], root, path)
        return
    types = node.get("type")
    if types is not None:
        wanted = [types] if isinstance(types, str) else list(types)
        if not any(_is(value, t) for t in wanted):
            yield f"{path}: expected {' or '.join(wanted)}"
            return
    if "const" in node and value != node["const"]:
        yield f"{path}: expected {node['const']!r}"
    if "enum" in node and value not in node["enum"]:
        yield f"{path}: not one of {node['enum']}"
    if "pattern" in node and isinstance(value, str) and not re.search(node["pattern"], value):
        yield f"{path}: does not match {node['pattern']}"
    if _is(value, "integer") and not (node.get("minimum", value) <= value
                                      <= node.get("maximum", value)):
        yield f"{path}: out of range"
    if "oneOf" in node:
        fits = sum(not any(problems(value, alt, root, path)) for alt in node["oneOf"])
        if fits != 1:
            yield f"{path}: matches {fits} of oneOf"
    if isinstance(value, dict):
        yield from _object(value, node, root, path)
    if isinstance(value, list):
        if len(value) < node.get("minItems", 0):
            yield f"{path}: fewer than {node['minItems']} items"
        for i, item in enumerate(value):
            yield from problems(item, node.get("items", {}), root, f"{path}[{i}]")


def _object(value: dict[str, Any], node: Mapping[str, Any], root: Mapping[str, Any],
            path: str) -> Iterator[str]:
    props = node.get("properties", {})
    for name in node.get("required", ()):
        if name not in value:
            yield f"{path}: missing {name}"
    for name, item in value.items():
        if name in props:
            yield from problems(item, props[name], root, f"{path}.{name}")
        elif node.get("additionalProperties") is False:
            yield f"{path}: unexpected {name}"


def answer_problems(op: str, answer: Mapping[str, Any]) -> list[str]:
    """What is wrong with an adapter's answer to `op` (empty: it follows the schema)."""
    root = load_schema()
    if "error" in answer:
        node = root["$defs"]["error_answer"]
    elif answer.get("unsupported") is True:
        node = root["$defs"]["unsupported_answer"]
    else:
        node = root["$defs"].get(f"{op}_answer", {})
    return list(problems(dict(answer), node, root))


def request_problems(request: Mapping[str, Any]) -> list[str]:
    root = load_schema()
    node = root["$defs"].get(f"{request.get('op')}_request")
    if node is None:
        return [f"$.op: unknown op {request.get('op')!r}"]
    return list(problems(dict(request), node, root))
