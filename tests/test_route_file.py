"""The route file `trace` reads (format sphinxamp-route/1, examples/): every malformed part is
refused as InvalidArgument naming the field, never a bare exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sphinxamp.cli._route_file import parse_route
from sphinxamp.errors import InvalidArgument

EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "route-blinded.json")
                     .read_text())
KEY = "42" * 32


def with_hop(hop: dict[str, Any]) -> str:
    return json.dumps({**EXAMPLE, "hops": [hop]})


def test_the_examples_parse() -> None:
    spec, drawn = parse_route(json.dumps(EXAMPLE))
    assert not drawn and len(spec.hops) == 1


@pytest.mark.parametrize(("text", "field"), [
    ("not json", "route"),
    (json.dumps([1]), "route"),
    (json.dumps({"format": "other/1"}), "route"),
    (json.dumps({"hops": 3}), "hops"),
    (json.dumps({"hops": []}), "hops"),
    (json.dumps({"session_key": "41", "hops": [{}]}), "session_key"),
    (with_hop(["not an object"]), "hops[0]"),  # type: ignore[arg-type]
    (with_hop({"node_key": 7, "payload": "0200"}), "hops[0].node_key"),
    (with_hop({"node_key": KEY, "payload": 7}), "hops[0].payload"),
    (with_hop({"node_key": KEY, "payload": {"amt_to_forward": -1}}),
     "hops[0].payload.amt_to_forward"),
    (with_hop({"node_key": KEY, "payload": {"amt_to_forward": True}}),
     "hops[0].payload.amt_to_forward"),
    (with_hop({"node_key": KEY, "payload": {"short_channel_id": "1y2"}}),
     "hops[0].payload.short_channel_id"),
    (with_hop({"node_key": KEY, "payload": {"payment_data": 5}}),
     "hops[0].payload.payment_data"),
    (with_hop({"node_key": KEY, "payload": {"payment_data": {"payment_secret": "00"}}}),
     "hops[0].payload.payment_data.payment_secret"),
    (with_hop({"node_key": KEY, "payload": {"color": "red"}}), "hops[0].payload.color"),
])
def test_malformed_route_files_name_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_route(text)
    assert info.value.field == field, info.value.message


def test_bad_blinded_data_names_the_hop() -> None:
    doc = dict(EXAMPLE)
    doc["blinded"] = {**EXAMPLE["blinded"], "hops": [{"node_key": KEY,
                                                      "encrypted_data": {"path_id": 5}}]}
    with pytest.raises(InvalidArgument) as info:
        parse_route(json.dumps(doc))
    assert info.value.field == "blinded.hops[0].encrypted_data"
