#!/usr/bin/env python3
"""Write the seed corpora (fuzz/corpus/<target>/) and dictionaries (fuzz/dict/<target>.dict).

Seeds come from the project's own vectors (vectors/**/*.json, read generically: hex strings
are classified by the JSON key that holds them and by what the library makes of them), from
onions built here with the library, and from hand-made edge cases. Files this script owns are
named `vec-*`, `gen-*` and `edge-*` and are rewritten on every run; every other file in a
corpus directory (`regress-*` crashers, entries merged from campaigns) is left alone.

Usage: fuzz/make_corpus.py [--check]   (--check: exit 1 if the committed corpus is stale)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
sys.path.insert(0, str(FUZZ))

import _blinding_seeds  # noqa: E402
import _common  # noqa: E402  (puts the checkout on sys.path)
import _failure_seeds  # noqa: E402
import _peel  # noqa: E402
import _seeds  # noqa: E402
import _targets  # noqa: E402
import _trampoline_seeds  # noqa: E402
import _wire_seeds  # noqa: E402
import fuzz_explain  # noqa: E402
import fuzz_tlv_typed  # noqa: E402
from _dicts import write_dicts  # noqa: E402

from sphinxamp.onion._sphinx import PeeledHop, peel_onion  # noqa: E402
from sphinxamp.primitives import _crypto as crypto  # noqa: E402
from sphinxamp.wire._bigsize import decode_bigsize  # noqa: E402

VECTORS = _common.REPO / "vectors"
CORPUS = FUZZ / "corpus"
OWNED = ("vec-", "gen-", "edge-")
TARGETS = ("bigsize", "tlv_stream", "tlv_typed", "payload_intermediate", "payload_final",
           "payload_blinded_intermediate", "payload_blinded_final", "onion_packet",
           "peel_raw", "peel_reseal", *_blinding_seeds.TARGETS, *_failure_seeds.TARGETS,
           "explain", *_wire_seeds.TARGETS, *_trampoline_seeds.TARGETS)
PAYLOAD_TARGETS = TARGETS[3:7]


@dataclass
class Found:
    """Hex strings from the vectors, sorted by what their key says they are."""

    short: set[bytes] = field(default_factory=set)  # ≤ 9 bytes: BigSize candidates
    streams: set[bytes] = field(default_factory=set)
    payloads: set[bytes] = field(default_factory=set)
    packets: set[bytes] = field(default_factory=set)
    keys: set[bytes] = field(default_factory=set)
    path_keys: set[bytes] = field(default_factory=set)
    ads: set[bytes] = field(default_factory=lambda: {b""})
    peel_cases: set[bytes] = field(default_factory=set)  # ready-made peel_raw inputs


def _hex(value: object) -> bytes | None:
    if not isinstance(value, str) or len(value) % 2:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _walk(node: object, key: str = "") -> Iterator[tuple[str, object, object]]:
    """(key, value, enclosing object) for every leaf, lists inheriting their key."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, dict | list):
                yield from _walk(v, k)
            else:
                yield k, v, node
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                yield from _walk(item, key)
            else:
                yield key, item, node


def _unwrap_onion_message(raw: bytes, found: Found) -> None:
    """type 513 ‖ path_key ‖ u16 len ‖ packet: keep the packet and the path key."""
    if len(raw) > 37 and raw[:2] == b"\x02\x01" and int.from_bytes(raw[35:37], "big") == len(
            raw) - 37:
        found.path_keys.add(raw[2:35])
        found.packets.add(raw[37:])


def _classify(key: str, raw: bytes, found: Found) -> None:
    k = key.lower()
    if len(raw) <= 9:
        found.short.add(raw)
    if "stream" in k or "tlv" in k or "decrypted" in k:
        found.streams.add(raw)
    if "payload" in k and "area" not in k:
        found.payloads.add(_strip_length(raw))
    if len(raw) >= 66 and ("onion" in k or "packet" in k):
        found.packets.add(raw)
        _unwrap_onion_message(raw, found)
    if len(raw) == 32 and ("priv" in k or k.endswith("key") or k == "decode"):
        found.keys.add(raw)
    if len(raw) == 33 and ("path_key" in k or "blinding" in k):
        found.path_keys.add(raw)
    if k == "associated_data":
        found.ads.add(raw)


def _strip_length(raw: bytes) -> bytes:
    """Vector payloads sometimes carry their BigSize length prefix; the targets take none."""
    try:
        length, start = decode_bigsize(raw)
    except Exception:  # any refusal just means "no prefix"
        return raw
    return raw[start:] if start + length == len(raw) else raw


def _case_seed(case: dict[str, object]) -> bytes | None:
    """A vector case that names its own node key, onion and associated data, as is."""
    key, onion = _hex(case.get("node_key")), _hex(case.get("onion"))
    ad = _hex(case.get("associated_data")) or b""
    if key is None or onion is None or len(key) != 32 or len(ad) > 255:
        return None
    path_key = _hex(case.get("path_key"))
    message = case.get("payload_area") is None and len(onion) != 1366
    return _peel.PeelInput(key, message, path_key, ad, onion).encode()


def scan_vectors() -> Found:
    found = Found()
    for path in sorted(VECTORS.rglob("*.json")):
        doc = json.loads(path.read_text())
        for key, value, parent in _walk(doc):
            raw = _hex(value)
            if raw is not None:
                _classify(key, raw, found)
            if isinstance(parent, dict) and key == "onion":
                seed = _case_seed(parent)
                if seed is not None:
                    found.peel_cases.add(seed)
    return found


def peel_successes(found: Found) -> list[tuple[_peel.PeelInput, object]]:
    """Every (packet, key, path key, associated data) combination from the vectors that
    peels: the vectors need not say which key opens which onion."""
    out = []
    for packet in sorted(found.packets):
        message = len(packet) != 1366
        for key in sorted(found.keys):
            if not _peel.valid_secret(key):
                continue
            for path_key in [None, *sorted(found.path_keys)]:
                for ad in sorted(found.ads):
                    inp = _peel.PeelInput(key, message, path_key, ad, packet)
                    got = _common.call(peel_onion, packet, key, ad, **inp.kwargs())
                    if got.ok:
                        out.append((inp, got.value))
    return out


def _plaintext(inp: _peel.PeelInput, hop: PeeledHop) -> bytes:
    """The decrypted routing area a peel saw, for peel_reseal seeds."""
    rho = crypto.derive_key(crypto.KEY_RHO, hop.shared_secret)
    return crypto.chacha20(rho, inp.packet[34:-32])


def _reseal_seed(plain: bytes, message: bool, blinded: bool) -> bytes:
    flags = (_peel.MESSAGE if message else 0) | (_peel.BLINDED if blinded else 0)
    return bytes((flags,)) + (plain if message else plain.rstrip(b"\x00"))


def collect(found: Found) -> dict[str, dict[str, bytes]]:
    """target → {file stem prefix → input}; names are made unique by content hash later."""
    seeds: dict[str, dict[str, bytes]] = {t: {} for t in TARGETS}
    for raw in found.short:
        seeds["bigsize"][f"vec-{raw.hex()[:18]}"] = raw
    payloads = found.payloads | _seeds.payloads()
    streams = found.streams | payloads
    for i, raw in enumerate(sorted(streams)):
        seeds["tlv_stream"][f"vec-stream{i}"] = raw
        for sel in range(len(fuzz_tlv_typed.SCHEMAS)):
            seeds["tlv_typed"][f"vec-ns{sel}-stream{i}"] = bytes((sel,)) + raw
    for i, raw in enumerate(sorted(payloads)):
        for target in PAYLOAD_TARGETS:
            seeds[target][f"vec-payload{i}"] = raw
    for i, raw in enumerate(sorted(found.packets)):
        seeds["onion_packet"][f"vec-packet{i}"] = raw
    for i, raw in enumerate(sorted(found.peel_cases)):
        seeds["peel_raw"][f"vec-case{i}"] = raw
    peels = [("vec", peel_successes(found)), ("gen", _seeds.built_peels(payloads))]
    for src, found_peels in peels:
        for i, (inp, hop) in enumerate(found_peels):
            seeds["peel_raw"][f"{src}-peel{i}"] = inp.encode()
            seeds["onion_packet"][f"{src}-peel{i}"] = inp.packet
            plain = _plaintext(inp, hop)
            seeds["peel_reseal"][f"{src}-peel{i}"] = _reseal_seed(
                plain, inp.message, inp.path_key is not None)
    for target, edges in _seeds.edges(payloads).items():
        seeds[target].update(edges)
    for target, entries in _blinding_seeds.seeds().items():
        seeds[target].update(entries)
    for target, entries in _failure_seeds.seeds().items():
        seeds[target].update(entries)
    for target, entries in _wire_seeds.seeds().items():
        seeds[target].update(entries)
    for target, entries in _trampoline_seeds.seeds().items():
        seeds[target].update(entries)
    seeds["explain"].update(fuzz_explain.seeds(
        {"packet": found.packets, "payload": payloads, "stream": found.streams,
         "failure": set(seeds["failure_message"].values())}))
    return seeds


def _name(stem: str, data: bytes) -> str:
    return f"{stem}-{hashlib.sha1(data).hexdigest()[:10]}"


def write(seeds: dict[str, dict[str, bytes]], check: bool) -> list[str]:
    """Write (or, with `check`, compare) the owned files; return the differences."""
    diffs = []
    for target, entries in seeds.items():
        folder = CORPUS / target
        want: dict[bytes, str] = {}
        for stem, data in entries.items():
            want.setdefault(data, _name(stem, data))  # one file per distinct input
        want_files = {name: data for data, name in want.items()}
        have = {p.name: p for p in folder.glob("*") if p.name.startswith(OWNED)}
        for name in sorted(set(have) - set(want_files)):
            diffs.append(f"stale {target}/{name}")
            if not check:
                have[name].unlink()
        for name, data in sorted(want_files.items()):
            path = folder / name
            if not path.is_file() or path.read_bytes() != data:
                diffs.append(f"write {target}/{name}")
                if not check:
                    folder.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
    return diffs


def strays() -> list[str]:
    """A corpus or dictionary named after a fast target: never read (the fast target reads
    its oracle's), so seeds put there would silently go unused."""
    return [f"stray {path.relative_to(FUZZ)}: {target} reads {_targets.corpus_of(target)}'s"
            for target in _targets.fast_targets()
            for path in (CORPUS / target, FUZZ / "dict" / f"{target}.dict") if path.exists()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report a stale corpus")
    args = parser.parse_args()
    seeds = collect(scan_vectors())
    # Every corpus gets a dictionary, including those whose seeds are written by hand; a fast
    # target reads its oracle's (`_targets.corpus_of`), so it has none of its own.
    diffs = write(seeds, args.check) + write_dicts(FUZZ / "dict", tuple(_targets.corpora()),
                                                   args.check) + strays()
    for target in TARGETS:
        print(f"{target:30} {len(seeds[target]):5} generated seeds")
    if diffs and (args.check or strays()):
        print("\n".join(diffs[:20]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
