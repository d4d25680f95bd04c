"""The inputs, timed callables and floors of the benchmark table (see `core` for the loop)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from benchmarks import core, hops, peers
from sphinxamp._payload import AmpRecord, HopPayload, PaymentData, decode_hop_payload
from sphinxamp.onion._sphinx import build_onion, peel_onion
from sphinxamp.primitives import _secp256k1
from sphinxamp.primitives._crypto import public_key, sha256
from sphinxamp.wire._tlv import ShortChannelId, TlvRecord, decode_stream, encode_stream

_CTX = GLOBAL_CONTEXT.ctx
SESSION_KEY = bytes([0x41]) * 32
ASSOCIATED_DATA = bytes([0x42]) * 32
# The route of the BOLT 4 onion vector (bolt04/onion-test.json): hop i has private key
# bytes([0x41 + i]) * 32; the payloads below are that file's records, rebuilt from their values.
VECTOR_KEYS = tuple(bytes([0x41 + i]) * 32 for i in range(5))
PEER = peers.PYLN
# The rows the peer is timed on: its own timer of that op, or the one named here.
PEER_TIMERS = {"peel": "pyln:peel", "peel-final": "pyln:peel-final", "build-5": "pyln:build-5",
               "build-20": "pyln:build-20", "payload-final": "pyln:payload-final",
               "payload-forward": "pyln:payload-forward", "process-hop": "pyln:peel",
               "process-hop-memlog": "pyln:peel"}


def _fwd(amt: int, cltv: int, scid: int, extra: tuple[TlvRecord, ...] = ()) -> bytes:
    return HopPayload(amt, cltv, ShortChannelId.from_int(scid), unknown_records=extra).encode()


def vector_route() -> list[tuple[bytes, bytes]]:
    odd_513 = TlvRecord(513, bytes(range(1, 16)) * 4)
    secret = bytes.fromhex("24a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f61704")
    final = encode_stream([
        TlvRecord(2, (10000).to_bytes(2, "big")), TlvRecord(4, (1000).to_bytes(2, "big")),
        TlvRecord(8, secret + (10000).to_bytes(2, "big")), TlvRecord(301, b"\x2a" * 224),
    ])
    payloads = [_fwd(15000, 1500, 1), _fwd(14000, 1400, 2, (odd_513,)), _fwd(12500, 1250, 3),
                _fwd(10000, 1000, 4), final]
    return [(public_key(k), p) for k, p in zip(VECTOR_KEYS, payloads, strict=True)]


def long_route(hops: int = 20) -> list[tuple[bytes, bytes]]:
    """`hops` hops with 32-byte payloads: 20 of them fill the 1300-byte area exactly."""
    keys = [sha256(b"bench hop %d" % i) for i in range(hops)]
    return [(public_key(k), sha256(k)) for k in keys]


def final_payload() -> bytes:
    """A typical AMP/MPP final payload: types 2, 4, 8, 14, 16 and one custom record."""
    return HopPayload(
        amt_to_forward=250_000_000, outgoing_cltv_value=850_144,
        payment_data=PaymentData(bytes(range(32)), 1_000_000_000),
        amp=AmpRecord(bytes(range(32, 64)), bytes(range(64, 96)), 3_000_017),
        payment_metadata=bytes(range(96, 120)),
        custom_records=(TlvRecord(696969, bytes(range(120, 152))),),
    ).encode()


def _bare_bigsize(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0xFD:
        return first, pos + 1
    n = 2 if first == 0xFD else 4 if first == 0xFE else 8
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def bare_tlv_split(data: bytes) -> list[tuple[int, int, int]]:
    """The least a Python decoder can do: find each record's (type, value start, value end);
    no checks, no typing. The one-byte BigSize of nearly every type and length is inline."""
    out, pos, end = [], 0, len(data)
    while pos < end:
        rtype = data[pos]
        if rtype < 0xFD:
            pos += 1
        else:
            rtype, pos = _bare_bigsize(data, pos)
        length = data[pos]
        if length < 0xFD:
            pos += 1
        else:
            length, pos = _bare_bigsize(data, pos)
        out.append((rtype, pos, pos + length))
        pos += length
    return out


def _floor_timers(
    packet_key: bytes, node_key: bytes, tlv: dict[str, bytes]
) -> dict[str, Callable[[], object]]:
    """Each primitive alone, with the cheapest correct call (preallocated outputs, no result
    conversion to bytes): these are lower bounds, not what a usable API can reach."""
    parsed = ffi.new("secp256k1_pubkey *")
    scratch = ffi.new("secp256k1_pubkey *")
    out32 = ffi.new("unsigned char[32]")
    tweak = sha256(b"tweak")
    data32, data66 = os.urandom(32), os.urandom(66)
    data1332, data1366 = os.urandom(1332), os.urandom(1366)
    zeros1300, zeros2600 = bytes(1300), bytes(2600)
    nonce = bytes(16)
    running = Cipher(algorithms.ChaCha20(tweak, nonce), None).encryptor()
    keyed = hmac.new(b"rho", digestmod="sha256")

    def derive() -> bytes:  # a key derivation: the keyed state copied, one block hashed
        run = keyed.copy()
        run.update(data32)
        return run.digest()

    def ecdh() -> None:  # a wire key must be parsed (decompressed) before it is multiplied
        lib.secp256k1_ec_pubkey_parse(_CTX, parsed, packet_key, 33)
        lib.secp256k1_ecdh(_CTX, out32, parsed, node_key, ffi.NULL, ffi.NULL)

    lib.secp256k1_ec_pubkey_parse(_CTX, scratch, packet_key, 33)
    prims: dict[str, Callable[[], object]] = {
        "floor:ecdh": ecdh,
        "floor:tweak-mul": lambda: lib.secp256k1_ec_pubkey_tweak_mul(_CTX, scratch, tweak),
        "floor:generator-mul": lambda: lib.secp256k1_ec_pubkey_create(_CTX, scratch, tweak),
        "floor:sha256-66": lambda: hashlib.sha256(data66).digest(),
        "floor:derive-key": derive,
        "floor:hmac-1332": lambda: hmac.digest(tweak, data1332, "sha256"),
        "floor:hmac-1366": lambda: hmac.digest(tweak, data1366, "sha256"),
        "floor:chacha20-ctx": lambda: Cipher(algorithms.ChaCha20(tweak, nonce), None)
        .encryptor(),
        "floor:chacha20-1300-bytes": lambda: running.update(zeros1300),
        "floor:chacha20-2600": lambda: Cipher(algorithms.ChaCha20(tweak, nonce), None)
        .encryptor().update(zeros2600),
        "floor:tlv-split-final": lambda: bare_tlv_split(tlv["final"]),
        "floor:tlv-split-forward": lambda: bare_tlv_split(tlv["forward"]),
    }
    chain = [prims[f"floor:{p}"] for p in ("ecdh", "tweak-mul", "sha256-66", "hmac-1366",
                                           "chacha20-2600")]

    def in_sequence() -> None:  # the same calls back to back, as a peel makes them
        for call in chain:
            call()

    return {**prims, "floor:peel-sequence": in_sequence}


PEEL_FLOOR = (("floor:ecdh", 1), ("floor:tweak-mul", 1), ("floor:sha256-66", 1),
              ("floor:hmac-1366", 1), ("floor:chacha20-2600", 1))


def build_floor(n: int) -> list[tuple[str, float]]:
    """The full build floor of an n-hop route: per hop the curve (ECDH with the hop key,
    a generator multiplication for the ephemeral key), a rho and a mu key derivation, one
    ChaCha20 context, 1300 bytes of keystream and an HMAC over the 1300-byte mix plus the
    associated data; per hop but the last the blinding factor SHA256(E ‖ ss); once the pad
    stream (a derivation, a context, 1300 bytes)."""
    return [("floor:ecdh", n), ("floor:generator-mul", n), ("floor:derive-key", 2 * n + 1),
            ("floor:chacha20-ctx", n + 1), ("floor:chacha20-1300-bytes", n + 1),
            ("floor:hmac-1332", n), ("floor:sha256-66", n - 1)]


@dataclass
class Suite:
    inputs: dict[str, Any]
    pyln: Any = None
    tmp: Any = None
    peer_error: str | None = None  # why the peer's column is empty, when it was asked for
    notes: list[str] = field(default_factory=list)
    closers: list[Callable[[], object]] = field(default_factory=list)

    @classmethod
    def create(cls, with_pyln: bool = True, quick: bool = False) -> Suite:
        route = vector_route()
        onion = build_onion(SESSION_KEY, route, ASSOCIATED_DATA).to_bytes()
        packet = onion
        for key in VECTOR_KEYS[:-1]:
            nxt = peel_onion(packet, key, ASSOCIATED_DATA).next_packet
            assert nxt is not None
            packet = nxt.to_bytes()
        inputs = {
            "route": route, "onion": onion, "final_onion": packet, "route20": long_route(),
            "tlv": {"final": final_payload(), "forward": route[0][1]},
            "onions": hops.distinct_onions(route, 64 if quick else 512),
        }
        suite = cls(inputs, tmp=tempfile.TemporaryDirectory(prefix="sphinxamp-bench-"))
        if with_pyln:
            suite.peer_error = peers.check_pyln()
            if suite.peer_error is None:
                from pyln.proto import onion as pyln_onion
                from pyln.proto import primitives
                suite.pyln = (pyln_onion, primitives)
            else:
                suite.notes.append(f"{PEER} failed its check, its column is n/a: "
                                   f"{suite.peer_error}")
        return suite

    def close(self) -> None:
        for close in self.closers:
            close()
        if self.tmp is not None:
            self.tmp.cleanup()

    def timers(self) -> dict[str, Callable[[], object]]:
        i = self.inputs
        route, route20, onion, final_onion = i["route"], i["route20"], i["onion"], i["final_onion"]
        k0, k4 = VECTOR_KEYS[0], VECTOR_KEYS[4]
        tlv_final, tlv_fwd = i["tlv"]["final"], i["tlv"]["forward"]
        t: dict[str, Callable[[], object]] = {
            "ours:peel": lambda: peel_onion(onion, k0, ASSOCIATED_DATA),
            "ours:peel-final": lambda: peel_onion(final_onion, k4, ASSOCIATED_DATA),
            "ours:build-5": lambda: build_onion(SESSION_KEY, route, ASSOCIATED_DATA),
            "ours:build-20": lambda: build_onion(SESSION_KEY, route20, ASSOCIATED_DATA),
            "ours:payload-final": lambda: decode_hop_payload(
                tlv_final, final=True, path_key_from_htlc=False),
            "ours:payload-forward": lambda: decode_hop_payload(
                tlv_fwd, final=False, path_key_from_htlc=False),
            "ours:payload-final-stream": lambda: decode_stream(tlv_final),
            "ours:payload-forward-stream": lambda: decode_stream(tlv_fwd),
        }
        t.update(_floor_timers(onion[1:34], k0, i["tlv"]))
        t.update(_secp_timers(onion[1:34], k0))
        t.update(hops.process_hop_timers(i["onions"], k0, ASSOCIATED_DATA, self.tmp.name,
                                         self.closers))
        t.update(hops.amp_receiver(self.tmp.name, self.notes, self.closers))
        if self.pyln is not None:
            pyln_timers = _pyln_timers(self.pyln, self.inputs, self.notes)
            self.peer_error = _first_failure(pyln_timers)
            if self.peer_error is None:
                t.update(pyln_timers)
            else:
                self.notes.append(f"{PEER} failed a timed call, its column is n/a: "
                                  f"{self.peer_error}")
        return t

    def rows(self, tm: dict[str, core.Timing]) -> list[core.Row]:
        add = core.add
        peel_floor = add(tm, PEEL_FLOOR)
        final_floor = add(tm, [p for p in PEEL_FLOOR if p[0] != "floor:tweak-mul"])
        floors = {
            "peel": peel_floor, "peel-final": final_floor,
            "build-5": add(tm, build_floor(5)), "build-20": add(tm, build_floor(20)),
            "payload-final": tm["floor:tlv-split-final"],
            "payload-forward": tm["floor:tlv-split-forward"],
            "process-hop": peel_floor, "process-hop-memlog": peel_floor,
            "process-hop-sqlite": add(tm, [(name, hops.SQLITE_BATCH) for name, _ in PEEL_FLOOR]
                                      + [("floor:durable-commit", 1)]),
            "amp-receive": tm["floor:durable-commit"],
            # The fallback's cost: a peel's curve work through coincurve's public API, against
            # the same through the private binding (docs/dependencies.md).
            "secp256k1-public": tm.get("secp:binding"),
        }
        rows = []
        for op, floor in floors.items():
            ours = tm.get(f"ours:{op}")
            extra = {}
            if op == "peel" and ours is not None:
                extra["ratio_vs_sequence"] = ours.median_us / tm["floor:peel-sequence"].median_us
            stream = tm.get(f"ours:{op}-stream")
            if stream is not None:
                extra["stream_us"] = stream.median_us
            per_call = hops.SQLITE_BATCH if op == "process-hop-sqlite" else 1
            if op == "amp-receive" and "ours:amp-receive-batch" in tm:
                extra["batched_shards_per_s"] = (
                    hops.BATCH_SHARDS * 1e6 / tm["ours:amp-receive-batch"].median_us)
            peer = tm.get(PEER_TIMERS.get(op, ""))
            error = self.peer_error if op in PEER_TIMERS else None
            rows.append(core.Row(op, ours, floor, peer, PEER if peer else None, extra, per_call,
                                 peer_error=error))
        return rows


def _secp_timers(packet_key: bytes, node_key: bytes) -> dict[str, Callable[[], object]]:
    """A peel's curve work (parse the packet key, ECDH, blind the next key, serialise it) by
    each secp256k1 implementation; "binding" is absent where coincurve's binding is."""
    tweak = sha256(b"tweak")

    def work(impl: Any) -> Callable[[], object]:
        def run() -> object:
            point = impl.parse_point(packet_key)
            impl.ecdh(node_key, point, "node_key")
            return impl.serialize_point(impl.point_mul(point, tweak))
        return run

    binding = _secp256k1.select("binding")
    timers = {"ours:secp256k1-public": work(_secp256k1.select("public"))}
    if binding is not _secp256k1.select("public"):
        timers["secp:binding"] = work(binding)
    return timers


def _first_failure(timers: dict[str, Callable[[], object]]) -> str | None:
    """Each of the peer's timed calls once: the check covers one peel, and a peer broken
    elsewhere (its build, its TLV reader) must empty its column, not end the run."""
    for name, call in timers.items():
        try:
            call()
        except Exception as exc:  # whatever the peer raises is its failure, not the run's
            return f"{name}: {type(exc).__name__}: {exc}"[: peers.REASON_CHARS]
    return None


def _pyln_timers(pyln: Any, inputs: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    onion_mod, prim = pyln
    ad = ASSOCIATED_DATA

    def path(route: list[tuple[bytes, bytes]]) -> Callable[[], Any]:
        def build() -> Any:
            hops = [onion_mod.SphinxHop(prim.PublicKey(pk), bytes([len(p)]) + p
                                        if len(p) < 0xFD else b"\xfd" + len(p).to_bytes(2, "big")
                                        + p) for pk, p in route]
            return onion_mod.SphinxPath(hops, ad, prim.Secret(SESSION_KEY)).compile()
        return build

    def peel(packet: bytes, key: bytes) -> Callable[[], Any]:
        return lambda: onion_mod.RoutingOnion.from_bin(packet).unwrap(prim.PrivateKey(key), ad)

    with contextlib.suppress(Exception):  # a failing build is reported as a timed call's
        if path(inputs["route"])().to_bin() != inputs["onion"]:
            notes.append("pyln-proto builds different bytes for the vector route")
    tlv = onion_mod.TlvPayload.from_bytes
    return {
        "pyln:peel": peel(inputs["onion"], VECTOR_KEYS[0]),
        "pyln:peel-final": peel(inputs["final_onion"], VECTOR_KEYS[4]),
        "pyln:build-5": path(inputs["route"]),
        "pyln:build-20": path(inputs["route20"]),
        "pyln:payload-final": lambda: tlv(inputs["tlv"]["final"], skip_length=True),
        "pyln:payload-forward": lambda: tlv(inputs["tlv"]["forward"], skip_length=True),
    }
