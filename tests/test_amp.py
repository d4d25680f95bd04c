"""AMP: derivation, sharing, shard tracking, records on the wire, and the payment builder.

Expected values come from lnd's formulas computed here with hashlib and integer XOR, from
lnd's own payload vectors (htlcswitch/hop/payload_test.go), or from an independent peel of
the built onions with every hop's key.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
from collections import Counter
from itertools import count
from pathlib import Path
from types import ModuleType

import pytest

from sphinxamp import (
    AmpRecord,
    HopPayload,
    OnionPacket,
    PaymentData,
    RouteHop,
    ShardRoute,
    ShortChannelId,
    build_amp_payment,
    cli,
    decode_payload,
    public_key,
)
from sphinxamp.conformance.vectors import run_document
from sphinxamp.errors import EncodeError, InvalidOnionHmac
from sphinxamp.onion import peel_onion
from sphinxamp.payments import (
    SeededRand,
    ShardTracker,
    Sharer,
    derive_child,
    reconstruct_children,
    reconstruct_root,
    split_root,
)
from sphinxamp.payments import _amp as amp
from sphinxamp.payments import _route as route
from sphinxamp.wire import TlvRecord, decode_stream


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def lnd_child(root: bytes, share: bytes, index: int) -> tuple[bytes, bytes]:
    """amp/child.go DeriveChild, written out: SHA256(root ‖ share ‖ uint32 big-endian)."""
    preimage = sha(root + share + index.to_bytes(4, "big"))
    return preimage, sha(preimage)


def xor_all(chunks: list[bytes]) -> bytes:
    acc = 0
    for c in chunks:
        acc ^= int.from_bytes(c, "big")
    return acc.to_bytes(32, "big")


def counter_rand() -> amp.Rand:
    """Distinct, recognisable 'random' blocks: byte i of draw k is k."""
    draws = count(1)
    return lambda n: bytes([next(draws) % 256]) * n


ROOT = bytes(range(32))
SHARE = bytes(range(32, 64))


# --- derivation ----------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 0xFF, 0x100, 0x10000, 0x1000000, 0xFFFFFFFF])
def test_derive_child_is_lnd_formula(index: int) -> None:
    child = derive_child(ROOT, SHARE, index)
    assert (child.preimage, child.hash) == lnd_child(ROOT, SHARE, index)
    assert (child.share, child.child_index) == (SHARE, index)


def test_index_is_big_endian_u32() -> None:
    # 1 and 0x01000000 would collide under a little-endian encoding of the same bytes.
    assert derive_child(ROOT, SHARE, 1).hash != derive_child(ROOT, SHARE, 1 << 24).hash
    assert derive_child(ROOT, SHARE, 1).preimage == sha(ROOT + SHARE + b"\x00\x00\x00\x01")


@pytest.mark.parametrize(("root", "share", "index"), [
    (b"\x00" * 31, SHARE, 0), (ROOT, b"\x00" * 33, 0), (ROOT, SHARE, -1), (ROOT, SHARE, 1 << 32),
])
def test_derive_child_refuses_bad_inputs(root: bytes, share: bytes, index: int) -> None:
    with pytest.raises(EncodeError):
        derive_child(root, share, index)


def test_single_share_is_the_root() -> None:
    assert split_root(ROOT, 1) == (ROOT,)
    child = Sharer.from_root(ROOT).child(5)
    assert child.preimage == sha(ROOT + ROOT + (5).to_bytes(4, "big"))


@pytest.mark.parametrize("n", [2, 3, 16])
def test_split_shares_xor_to_root(n: int) -> None:
    shares = split_root(ROOT, n, counter_rand())
    assert len(shares) == n and len(set(shares)) == n
    assert xor_all(list(shares)) == ROOT
    assert reconstruct_root(shares) == ROOT
    # n-1 shares are the random draws themselves; none of them is the root.
    assert shares[:-1] == tuple(bytes([k]) * 32 for k in range(1, n))


def test_split_refuses_zero_parts_and_short_randomness() -> None:
    with pytest.raises(EncodeError):
        split_root(ROOT, 0)
    with pytest.raises(EncodeError):
        split_root(ROOT, 2, lambda n: b"\x01" * (n - 1))


def test_reconstruct_children_checks_every_hash() -> None:
    shares = split_root(ROOT, 3, counter_rand())
    descs = [(s, 100 + i) for i, s in enumerate(shares)]
    children = reconstruct_children(descs)
    for child, (share, index) in zip(children, descs, strict=True):
        assert child.hash == lnd_child(ROOT, share, index)[1]
    # Without one share the XOR is another value, so no child matches any more.
    partial = reconstruct_children(descs[:2])
    assert all(p.hash != c.hash for p, c in zip(partial, children, strict=False))


# --- sharer and shard tracker --------------------------------------------------------------


def test_sharer_split_merge_zero() -> None:
    sharer = Sharer.from_root(ROOT)
    left, right = sharer.split(counter_rand())
    assert left.current == b"\x01" * 32
    assert xor_all([left.current, right.current]) == ROOT
    assert left.root == right.root == ROOT
    assert right.merge(left.current).current == ROOT
    zero = sharer.zero()
    assert zero.is_zero and zero.root == ROOT
    with pytest.raises(EncodeError, match="zero-Sharer"):
        zero.split()


def test_tracker_retry_gets_fresh_hash_and_shares_still_xor_to_root() -> None:
    tracker = ShardTracker(ROOT, b"\x13" * 32, b"\x11" * 32, 10_000, SeededRand(b"t"))
    first = tracker.new_shard(0, last=False)
    failed = tracker.new_shard(1, last=True)
    assert tracker.sharer.is_zero
    tracker.cancel_shard(1)
    # The failed share is back with the sharer; a retry takes it under a new random index.
    assert tracker.sharer.current == failed.child.share
    retry = tracker.new_shard(2, last=True)
    assert retry.child.share == failed.child.share
    assert retry.child.child_index != failed.child.child_index
    assert retry.payment_hash != failed.payment_hash
    assert xor_all([first.child.share, retry.child.share]) == ROOT
    for shard in (first, retry):
        assert shard.payment_hash == lnd_child(ROOT, shard.child.share,
                                               shard.child.child_index)[1]
        assert shard.payment_data == PaymentData(b"\x11" * 32, 10_000)
        assert shard.amp_record.set_id == b"\x13" * 32
    assert tracker.shard(2).payment_hash == retry.payment_hash
    with pytest.raises(EncodeError):
        tracker.shard(1)
    with pytest.raises(EncodeError):
        tracker.new_shard(0, last=False)


# --- records on the wire -------------------------------------------------------------------

# lnd htlcswitch/hop/payload_test.go "final hop with amp": 0e 41 | 12×32 | 13×32 | 09, after
# the amount and cltv records, and the MPP vector 08 21 | 11×32 | 08.
LND_AMP = bytes([0x0E, 0x41]) + b"\x12" * 32 + b"\x13" * 32 + b"\x09"
LND_MPP = bytes([0x08, 0x21]) + b"\x11" * 32 + b"\x08"
AMT_CLTV = bytes.fromhex("020101" "040101")


def test_lnd_amp_and_mpp_vectors_decode() -> None:
    payload = decode_payload(AMT_CLTV + LND_MPP + LND_AMP, "final")
    assert payload.amp == AmpRecord(b"\x12" * 32, b"\x13" * 32, 9)
    assert payload.payment_data == PaymentData(b"\x11" * 32, 8)
    assert payload.encode() == AMT_CLTV + LND_MPP + LND_AMP


# Intermediate-hop AMP/MPP, lengths 63/69 and non-minimal child_index are cases of
# vectors/amp.json, run below.


def test_amp_without_mpp_parses_but_is_never_built() -> None:
    payload = decode_payload(AMT_CLTV + LND_AMP, "final")  # lnd's parser accepts it too
    assert payload.payment_data is None and payload.amp is not None
    dest = public_key(b"\x05" * 32)
    with pytest.raises(EncodeError) as info:
        route.build_route_onion(dest, (), payload, b"\x00" * 32, b"\x41" * 32)
    assert info.value.reason == "amp_without_mpp"


# --- the payment builder -------------------------------------------------------------------

KEYS = {name: bytes([i + 1]) * 32 for i, name in enumerate(["n1", "n2", "n3", "dest"])}
PUB = {name: public_key(k) for name, k in KEYS.items()}
BY_PUB = {PUB[n]: KEYS[n] for n in KEYS}
CLTV = 800

# Three routes: direct; through n1; through n2 then n3 (fees per BOLT 7, worked by hand below).
ROUTES = [
    ShardRoute(),
    ShardRoute((RouteHop(PUB["n1"], ShortChannelId(1, 2, 3), 1000, 100, 40),), 35_000),
    ShardRoute((RouteHop(PUB["n2"], ShortChannelId(4, 5, 6), 10, 1000, 20),
                RouteHop(PUB["n3"], ShortChannelId(7, 8, 9), 5, 0, 10)), 25_000),
]
# (payloads seen by each node as (amt_to_forward, outgoing_cltv, scid), htlc amount, expiry)
EXPECTED_HOPS = [
    ([(40_000, CLTV, None)], 40_000, CLTV),
    # n1 forwards 35000: fee 1000 + 35000·100/10^6 = 1003 (floor), delta 40.
    ([(35_000, CLTV, "1x2x3"), (35_000, CLTV, None)], 36_003, CLTV + 40),
    # n3 forwards 25000 for 5; n2 forwards 25005 for 10 + 25005·1000/10^6 = 35, deltas 10+20.
    ([(25_005, CLTV + 10, "4x5x6"), (25_000, CLTV, "7x8x9"), (25_000, CLTV, None)],
     25_040, CLTV + 30),
]


def peel_all(shard: amp.BuiltShard) -> list[HopPayload]:
    packet: OnionPacket | None = shard.onion.packet
    out: list[HopPayload] = []
    for node in [*(h.pubkey for h in shard.route), PUB["dest"]]:
        assert packet is not None
        peeled = peel_onion(packet, BY_PUB[node], shard.payment_hash)
        role = "final" if peeled.is_final else "intermediate"
        out.append(decode_payload(peeled.payload, role))
        packet = peeled.next_packet
    assert packet is None
    return out


def test_three_routes_peel_and_reassemble() -> None:
    pay = build_amp_payment(PUB["dest"], 100_000, ROUTES, final_cltv_expiry=CLTV,
                            payment_metadata=b"meta", rand=SeededRand(b"three"))
    assert len({pay.root, pay.set_id, pay.payment_addr}) == 3
    finals = []
    for shard, (hops, htlc_amt, htlc_cltv) in zip(pay.shards, EXPECTED_HOPS, strict=True):
        payloads = peel_all(shard)
        seen = [(p.amt_to_forward, p.outgoing_cltv_value,
                 None if p.short_channel_id is None else str(p.short_channel_id))
                for p in payloads]
        assert seen == hops
        assert (shard.htlc_amount_msat, shard.htlc_cltv_expiry) == (htlc_amt, htlc_cltv)
        final = payloads[-1]
        assert final.payment_data == PaymentData(pay.payment_addr, 100_000)
        assert final.payment_metadata == b"meta"
        assert final.amp is not None and final.amp.set_id == pay.set_id
        finals.append(final.amp)
        # Record order on the wire: 2, 4, 8, 14, 16 (lnd sorts by type).
        assert [r.type for r in decode_stream(final.encode())] == [2, 4, 8, 14, 16]
    root = xor_all([a.root_share for a in finals])
    assert root == pay.root
    hashes = [lnd_child(root, a.root_share, a.child_index)[1] for a in finals]
    assert hashes == [s.payment_hash for s in pay.shards]
    assert len(set(hashes)) == 3


def test_onion_is_bound_to_its_shard_hash() -> None:
    pay = build_amp_payment(PUB["dest"], 2_000, 2, final_cltv_expiry=CLTV,
                            rand=SeededRand(b"bind"))
    first, second = pay.shards
    with pytest.raises(InvalidOnionHmac):
        peel_onion(first.onion.packet, KEYS["dest"], second.payment_hash)


def test_invoice_payment_addr_and_custom_records_on_every_shard() -> None:
    addr = b"\xaa" * 32
    customs = [TlvRecord(7629168, b"hi"), TlvRecord(65537, b"\x01")]
    pay = build_amp_payment(PUB["dest"], 3_001, 3, final_cltv_expiry=CLTV, payment_addr=addr,
                            custom_records=customs, rand=SeededRand(b"inv"))
    assert pay.payment_addr == addr
    assert [s.amount_msat for s in pay.shards] == [1_001, 1_000, 1_000]
    for shard in pay.shards:
        final = peel_all(shard)[-1]
        assert final.payment_data == PaymentData(addr, 3_001)
        assert final.custom_records == (TlvRecord(65537, b"\x01"), TlvRecord(7629168, b"hi"))
        assert final.payment_metadata is None


def test_spontaneous_payment_draws_fresh_secrets() -> None:
    a = build_amp_payment(PUB["dest"], 1_000, 1, final_cltv_expiry=CLTV)
    b = build_amp_payment(PUB["dest"], 1_000, 1, final_cltv_expiry=CLTV)
    assert len({a.root, b.root, a.set_id, b.set_id, a.payment_addr, b.payment_addr}) == 6
    # One shard: its share is the whole root.
    assert a.shards[0].child.share == a.root


def test_session_keys_are_used_as_given() -> None:
    keys = [b"\x41" * 32, b"\x42" * 32]
    pay = build_amp_payment(PUB["dest"], 2_000, 2, final_cltv_expiry=CLTV, session_keys=keys)
    assert [s.onion.packet.public_key for s in pay.shards] == [public_key(k) for k in keys]
    with pytest.raises(EncodeError):
        build_amp_payment(PUB["dest"], 2_000, 2, final_cltv_expiry=CLTV, session_keys=keys[:1])


@pytest.mark.parametrize("split", [
    0, 1_001, [600, 300], [600, 500], [0, 1_000], [ShardRoute(amount_msat=1_000), ShardRoute()],
    [],
])
def test_amount_split_must_cover_total_exactly(split: object) -> None:
    with pytest.raises(EncodeError) as info:
        build_amp_payment(PUB["dest"], 1_000, split, final_cltv_expiry=CLTV)  # type: ignore[arg-type]
    assert info.value.reason == "amount_split"


def test_route_too_long_for_the_packet() -> None:
    hop = RouteHop(PUB["n1"], ShortChannelId(1, 1, 1))
    with pytest.raises(EncodeError) as info:
        build_amp_payment(PUB["dest"], 1_000, [[hop] * 60], final_cltv_expiry=CLTV)
    assert info.value.reason == "route_too_long"


def test_custom_record_below_custom_range_is_refused() -> None:
    with pytest.raises(EncodeError):
        build_amp_payment(PUB["dest"], 1_000, 1, final_cltv_expiry=CLTV,
                          custom_records=[TlvRecord(65535, b"")])


# --- vectors/amp.json ----------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
AMP_JSON = REPO / "vectors" / "amp.json"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_amp", REPO / "vectors/tools/gen_amp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_file_byte_for_byte() -> None:
    gen = load_generator()
    assert gen.render(gen.build()) == AMP_JSON.read_text()
    assert gen.main(["--check", "--out", str(AMP_JSON)]) == 0
    # Its expectations owe nothing to the code under test.
    tree = ast.parse((REPO / "vectors/tools/gen_amp.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("sphinxamp") for name in imported), imported


def test_every_amp_vector_passes() -> None:
    doc = json.loads(AMP_JSON.read_text())
    kinds = Counter(case["kind"] for case in doc["cases"])
    assert kinds == {"amp-derive": 8, "amp-set": 9, "amp-record": 15, "amp-payload": 18}
    results = run_document(doc, "amp.json")
    assert [r.id for r in results if not r.passed] == []
    widths = {c["expect"]["length"] - 64 for c in doc["cases"] if c.get("record") == "amp"}
    assert widths == {0, 1, 2, 3, 4}


def _tamper(expect: dict[str, object]) -> dict[str, object]:
    out = dict(expect)
    key = sorted(out)[0]
    value = out[key]
    if isinstance(value, bool):
        out[key] = not value
    elif isinstance(value, str):
        out[key] = value[:-1] + ("0" if value[-1] != "0" else "1")
    elif isinstance(value, int):
        out[key] = value + 1
    elif isinstance(value, list):
        out[key] = value[1:] + value[:1] if len(value) > 1 else [*value, value[0]]
    else:
        out[key] = {"changed": True}
    return out


def test_every_amp_vector_can_fail() -> None:
    doc = json.loads(AMP_JSON.read_text())
    for case in doc["cases"]:
        bad = {**case, "expect": _tamper(case["expect"])}
        result = run_document({**doc, "cases": [bad]})[0]
        assert not result.passed, f"{case['id']} passed with {bad['expect']}"


# --- CLI: sphinxamp amp derive / split / pay -----------------------------------------------


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    status = cli.main([*argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_cli_derive_and_split(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = cli_json(capsys, "amp", "derive", "--root", ROOT.hex(), "--share",
                           SHARE.hex(), "--index", "258")
    preimage, hsh = lnd_child(ROOT, SHARE, 258)
    assert (status, out) == (0, {"preimage": preimage.hex(), "hash": hsh.hex()})
    status, out = cli_json(capsys, "amp", "split", "--root", ROOT.hex(), "--parts", "4")
    shares = [bytes.fromhex(s) for s in out["shares"]]  # type: ignore[attr-defined]
    assert status == 0 and len(shares) == 4 and xor_all(shares) == ROOT
    # child_index is a be32: a larger one is the command line's usage error (exit 2), its
    # bound named, before the library is reached.
    with pytest.raises(SystemExit) as refused:
        cli.main(["amp", "derive", "--root", ROOT.hex(), "--share", SHARE.hex(),
                  "--index", str(1 << 32), "--json"])
    assert refused.value.code == 2
    assert "2^32-1" in capsys.readouterr().err


def test_cli_pay_over_three_routes(capsys: pytest.CaptureFixture[str]) -> None:
    routes = ["direct", f"{PUB['n1'].hex()}@1x2x3",
              f"{PUB['n2'].hex()}@4x5x6,{PUB['n3'].hex()}@7x8x9"]
    args = ["amp", "pay", "--dest", PUB["dest"].hex(), "--amount-msat", "30000", "--parts", "3",
            "--seed", "01", "--height", "700", "--data", "7629168=6869"]
    for spec in routes:
        args += ["--route", spec]
    status, out = cli_json(capsys, *args)
    assert status == 0 and out["final_cltv_expiry"] == 718  # 700 + BOLT 11's default 18
    root = bytes.fromhex(out["root"])  # type: ignore[arg-type]
    for shard, hops in zip(out["shards"], ([], ["n1"], ["n2", "n3"]), strict=True):  # type: ignore[call-overload]
        assert shard["route"] == [PUB[n].hex() for n in [*hops, "dest"]]
        packet = OnionPacket.parse(bytes.fromhex(shard["onion"]))
        for name in [*hops, "dest"]:
            peeled = peel_onion(packet, KEYS[name], bytes.fromhex(shard["payment_hash"]))
            packet = peeled.next_packet  # type: ignore[assignment]
        final = decode_payload(peeled.payload, "final")
        assert final.amp is not None and final.custom_records == (TlvRecord(7629168, b"hi"),)
        assert final.payment_data == PaymentData(bytes.fromhex(out["payment_addr"]),  # type: ignore[arg-type]
                                                 30_000)
        assert lnd_child(root, final.amp.root_share, final.amp.child_index)[1].hex() \
            == shard["payment_hash"]
    assert cli_json(capsys, *args)[1] == out  # --seed: the same payment again
    status, err = cli_json(capsys, *args[:-2])  # two routes for three shards
    assert (status, err["reason"]) == (1, "bad_route")
