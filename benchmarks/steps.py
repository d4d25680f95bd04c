"""Where the time of a peel, a process_hop and a build goes, step by step:
`python -m benchmarks.steps [--runs N]`.

Each step of the library's own code path is re-enacted here with the same calls, timed with
`thread_time_ns` (CPU time, so other processes holding the core do not count) around it, and
reported as the median over N runs (the timer itself costs about 0.1 µs a step). The steps
add up to about the operation timed whole, which is printed beside them. This is the
evidence benchmarks/README.md gives for the goals out of reach.
"""

from __future__ import annotations

import argparse
import hmac as _hmac
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cases import ASSOCIATED_DATA, SESSION_KEY, VECTOR_KEYS, long_route, vector_route
from sphinxamp._hop import ProcessedHop, process_hop
from sphinxamp._payload import decode_hop_payload
from sphinxamp.onion._sphinx import (
    OnionPacket,
    PeeledHop,
    _check_route,
    _filler,
    _frame,
    _packet_hmac,
    build_onion,
    peel_onion,
)
from sphinxamp.primitives import _crypto as crypto
from sphinxamp.primitives._nodekey import shared_secret
from sphinxamp.wire._bigsize import decode_bigsize, encode_bigsize

Clock = Callable[[str], None]


def _timer() -> tuple[dict[str, list[float]], Callable[[], Clock]]:
    acc: dict[str, list[float]] = {}

    def start() -> Clock:
        last = [time.thread_time_ns()]

        def lap(name: str) -> None:
            now = time.thread_time_ns()
            acc.setdefault(name, []).append((now - last[0]) / 1000)
            last[0] = time.thread_time_ns()
        return lap
    return acc, start


def process_steps(runs: int) -> dict[str, float]:
    onion = build_onion(SESSION_KEY, vector_route(), ASSOCIATED_DATA).to_bytes()
    key, ad = VECTOR_KEYS[0], ASSOCIATED_DATA
    acc, start = _timer()
    for _ in range(runs):
        lap = start()
        public_key, hop_payloads, tag, parsed = _frame(onion, 1300)
        lap("frame: slice, parse the key")
        ss = shared_secret(key, parsed)
        lap("ECDH")
        mu = crypto.derive_key(crypto.KEY_MU, ss)
        lap("derive mu")
        ok = _hmac.compare_digest(_packet_hmac(mu, hop_payloads, ad), tag)
        lap("HMAC(1332 B) + compare")
        stream = crypto.chacha20_encryptor(crypto.derive_key(crypto.KEY_RHO, ss))
        lap("derive rho + ChaCha20 context")
        plain = stream.update(hop_payloads)
        lap("ChaCha20 1300 B")
        length, start_at = decode_bigsize(plain, 0, "payload length")
        end = start_at + length + 32
        payload, next_hmac = plain[start_at:start_at + length], plain[start_at + length:end]
        tail = b"".join((memoryview(plain)[end:], stream.update(bytes(end))))
        lap("read the frame, keystream tail")
        factor = crypto.sha256(public_key + ss)
        lap("SHA256(E || ss)")
        nxt_key = crypto.point_mul(parsed, factor)
        lap("tweak multiplication")
        nxt_pub = crypto.serialize_point(nxt_key)
        lap("serialize the next key")
        hop = PeeledHop(payload, ss, OnionPacket(0, nxt_pub, tail, next_hmac, nxt_key), start_at)
        lap("PeeledHop + OnionPacket objects")
        decoded, role = decode_hop_payload(hop.payload, final=False, path_key_from_htlc=False,
                                           base=hop.payload_offset)
        lap("payload decode + role rules")
        ProcessedHop(decoded, role, False, ss, hop.next_packet, hop.payload,
                     hop.payload_offset, None)
        lap("ProcessedHop object")
        assert ok
        peel_onion(onion, key, ad)
        lap("(peel_onion, whole)")
        process_hop(onion, key, ad)
        lap("(process_hop, whole)")
    return {k: statistics.median(v) for k, v in acc.items()}


def build_steps(runs: int, hops: int) -> dict[str, float]:
    route = vector_route() if hops == 5 else long_route(hops)
    ad, area = ASSOCIATED_DATA, 1300
    acc, start = _timer()
    for _ in range(runs):
        lap = start()
        pubkeys, sizes = _check_route(route, area, 2)
        lap("parse the hop keys")
        secret = SESSION_KEY
        epks, secrets = [], []
        for i, pk in enumerate(pubkeys):
            epk = crypto.public_key(secret)
            lap("generator multiplication + serialize")
            ss = crypto.ecdh(secret, pk)
            lap("ECDH")
            epks.append(epk)
            secrets.append(ss)
            if i < len(pubkeys) - 1:
                secret = crypto.scalar_mul(secret, crypto.sha256(epk + ss))
                lap("blinding factor + scalar product")
        rho = [crypto.derive_key(crypto.KEY_RHO, s) for s in secrets]
        filler, runs_ = _filler(rho, sizes, area)
        runs_.append(crypto.chacha20_encryptor(rho[-1]))
        lap("rho keys + filler (contexts)")
        mix = crypto.chacha20_stream(crypto.derive_key(crypto.KEY_PAD, SESSION_KEY), area)
        lap("pad stream")
        next_hmac = bytes(32)
        for i in range(len(route) - 1, -1, -1):
            frame = b"".join((encode_bigsize(len(route[i][1])), route[i][1], next_hmac))
            run = runs_[i] if i == len(route) - 1 else crypto.chacha20_reposition(
                runs_[i], rho[i], 0)
            mix = run.update(frame + mix[: area - len(frame)])
            if filler and i == len(route) - 1:
                mix = mix[: area - len(filler)] + filler
            lap("wrap: ChaCha20 of the shifted mix")
            next_hmac = crypto.hmac_sha256(crypto.derive_key(crypto.KEY_MU, secrets[i]),
                                           mix + ad)
            lap("wrap: derive mu + HMAC(1332 B)")
        build_onion(SESSION_KEY, route, ad)
        lap("(build_onion, whole)")
    # A loop step occurs several times a build: its median times its count per build.
    return {k: statistics.median(v) * len(v) / runs for k, v in acc.items()}


def _print(title: str, steps: dict[str, float]) -> None:
    print(f"\n{title}:\n\n| step | µs |\n|---|---|")
    total = sum(v for k, v in steps.items() if not k.startswith("("))
    for k, v in steps.items():
        print(f"| {k} | {v:.2f} |")
    print(f"| sum of the steps | {total:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3000)
    args = parser.parse_args(argv)
    _print("process_hop, forwarding hop of the BOLT 4 vector (medians)",
           process_steps(args.runs))
    for hops in (5, 20):
        _print(f"build_onion, {hops} hops (medians; a step in the hop loop times its count)",
               build_steps(max(1, args.runs // (4 * hops)), hops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
