"""Structure-aware mutation of a failure onion (BOLT 4 › Returning Errors): strip the return
packet's layers with the route's shared secrets down to the erring hop, mutate its plaintext
(the failure message, or its `failure_len`, `pad_len` and pad), pick the erring hop again,
and re-create and re-wrap the packet with valid HMACs, with attribution data whose HMACs are
recomputed for all, some or none of the hops (`_mutate_attribution`).

A byte mutation of a return packet breaks the erring hop's HMAC, which covers every byte
after it, so the origin finds no hop and never reads a message: the reader of
`failure_len`/`failuremsg` and `FailureMessage.decode` behind it see only the seeds.

The `failure_decrypt` harness's input: byte 0 picks the mode; mode 0: a return packet;
mode 1: erring hop ‖ damaged hop ‖ `failuremsg` (the harness builds the packet); mode 2: 920
bytes of attribution data ‖ the packet.
"""

from __future__ import annotations

import hmac
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import _mutate_attribution as attribution
from _mutate_attribution import MutateBytes, chacha20, derive

from sphinxamp.failures import FAILURE_CODES

HMAC_SIZE = 32
PAD_TO = 256  # failure_len + pad_len SHOULD be 256 (BOLT 4 › Returning Errors)
LENGTH_VALUES = (0, 1, 2, 0xFF, 0x100, 0x7FFF, 0xFFFF)
CODES = tuple(sorted(FAILURE_CODES))


def frame(message: bytes) -> bytes:
    """failure_len ‖ failuremsg ‖ pad_len ‖ pad, padded to 256 as the erring node SHOULD."""
    pad = max(0, PAD_TO - len(message))
    return len(message).to_bytes(2, "big") + message + pad.to_bytes(2, "big") + bytes(pad)


def split(body: bytes) -> tuple[bytes, bytes]:
    """The failure message and what follows it (pad_len ‖ pad), as the origin reads them;
    a `failure_len` past the end leaves the whole rest as the message."""
    length = int.from_bytes(body[:2].ljust(2, b"\0"), "big")
    return body[2 : 2 + length], body[2 + length :]


def _changed(old: bytes, new: bytes, rng: random.Random) -> bytes:
    """`new`, or `old` with a byte appended when the byte mutator gave it back unchanged (it
    may, on short inputs): a mutation that reseals the same plaintext is a wasted run."""
    return new if new != old else old + bytes((rng.randrange(256),))


@dataclass(frozen=True, slots=True)
class Reply:
    """A `failure_decrypt` input opened: the erring hop, its plaintext after the HMAC, the
    hold times reported (None: no attribution data), and mode 1's damage byte."""

    erring: int
    body: bytes
    holds: tuple[int, ...] | None
    relay: bool = False
    damaged: int = 0xFF


class FailureOnionMutator:
    """`_mutate.Structured` for the `failure_decrypt` harness with the route's secrets."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self.secrets = [bytes(s) for s in secrets]
        self.ammag = [derive(b"ammag", s) for s in self.secrets]
        self.um = [derive(b"um", s) for s in self.secrets]
        self.streams = [chacha20(derive(b"ammagext", s), bytes(attribution.HOLD_TIMES_SIZE))
                        for s in self.secrets]
        self.sealer = attribution.Sealer(self.secrets)

    # --- opening ---------------------------------------------------------------------

    def open(self, data: bytes) -> Reply | None:
        if not data:
            return None
        mode, rest = data[0] % 3, data[1:]
        if mode == 1:
            if len(rest) < 2:
                return None
            erring = rest[0] % len(self.secrets)
            reported = tuple(hop + 1 for hop in range(erring + 1))  # as the harness's relay
            return Reply(erring, frame(rest[2:]), reported, True, rest[1])
        packet, data_920 = rest, None
        if mode == 2:
            data_920, packet = rest[: attribution.DATA_SIZE], rest[attribution.DATA_SIZE :]
        found = self._strip(packet)
        if found is None:
            return None
        erring, body = found
        holds = None
        if data_920 is not None and len(data_920) == attribution.DATA_SIZE:
            holds = tuple(attribution.read_holds(data_920, self.streams, erring + 1))
        return Reply(erring, body, holds)

    def _strip(self, packet: bytes) -> tuple[int, bytes] | None:
        """The origin's search (BOLT 4 › Returning Errors › Origin node): remove `ammag`
        layers in route order until a hop's `um` HMAC covers the rest; its index and the
        plaintext after the HMAC."""
        view = packet
        for hop in range(len(self.secrets)):
            view = chacha20(self.ammag[hop], view)
            mac = hmac.digest(self.um[hop], view[HMAC_SIZE:], "sha256")
            if len(view) >= HMAC_SIZE and hmac.compare_digest(mac, view[:HMAC_SIZE]):
                return hop, view[HMAC_SIZE:]
        return None

    # --- mutating ------------------------------------------------------------------

    def _mutate_body(self, body: bytes, budget: int, relay: bool, rng: random.Random,
                     mutate_bytes: MutateBytes) -> bytes:
        """The message (re-framed, mostly padded to 256), the whole plaintext with its
        lengths and pad, one length field set to a boundary, or a message of another code.
        A relay input carries only the message (the harness frames it)."""
        message, tail = split(body)
        choice = rng.choice((0, 1, 2, 7)) if relay else rng.randrange(8)
        if choice < 4:
            new = _changed(message, mutate_bytes(message, max(len(message), budget - 4 - PAD_TO)),
                           rng)
            if choice < 3:
                return frame(new)
            return len(new).to_bytes(2, "big") + new + tail
        if choice < 6:
            return _changed(body, mutate_bytes(body, max(len(body), budget)), rng)
        if choice == 6:
            at = rng.choice((0, 2 + len(message)))
            value = rng.choice((*LENGTH_VALUES, len(message), len(body), len(body) - 2))
            out = bytearray(body.ljust(at + 2, b"\0"))
            out[at : at + 2] = (value & 0xFFFF).to_bytes(2, "big")
            return bytes(out)
        code = rng.choice(CODES).to_bytes(2, "big")
        return frame(code + message[2:])

    def _reshape(self, reply: Reply, rng: random.Random) -> Reply:
        """Another erring hop now and then; attribution data added or dropped (a relay input
        keeps it about half the time: the harness's relay already attributes every failure);
        a relay input turned into a received packet three times in four."""
        erring = rng.randrange(len(self.secrets)) if rng.randrange(4) == 0 else reply.erring
        holds = reply.holds
        if rng.randrange(6) == 0 or (reply.relay and rng.randrange(2) == 0):
            holds = None if holds is not None else ()
        if holds is not None:
            holds = (holds + (0,) * len(self.secrets))[: erring + 1]
        relay = reply.relay and rng.randrange(4) == 0
        damaged = rng.randrange(256) if relay and rng.randrange(4) == 0 else reply.damaged
        return Reply(erring, reply.body, holds, relay, damaged)

    def mutate(self, data: bytes, max_size: int, rng: random.Random,
               mutate_bytes: MutateBytes) -> bytes | None:
        reply = self.open(data)
        if reply is None:
            return None
        shaped = self._reshape(reply, rng)
        budget = max_size - self._overhead(shaped)
        body = self._mutate_body(shaped.body, budget, shaped.relay, rng, mutate_bytes)
        return self.seal(replace(shaped, body=body), shaped.holds, max_size, rng, mutate_bytes)

    def crossover(self, first: bytes, second: bytes, max_size: int, rng: random.Random,
                  mutate_bytes: MutateBytes) -> bytes | None:
        """The first reply's route and attribution with a message spliced from both; when the
        second does not open, a mutation of the first (libFuzzer stacks crossovers and
        mutations: a plain splice would break the seal for every step after it)."""
        a, b = self.open(first), self.open(second)
        if a is None:
            return None
        if b is None:
            return self.mutate(first, max_size, rng, mutate_bytes)
        (msg_a, _), (msg_b, _) = split(a.body), split(b.body)
        message = msg_a[: rng.randint(0, len(msg_a))] + msg_b[rng.randint(0, len(msg_b)) :]
        shaped = self._reshape(a, rng)
        return self.seal(replace(shaped, body=frame(message)), shaped.holds, max_size, rng,
                         mutate_bytes)

    # --- sealing -------------------------------------------------------------------

    def _overhead(self, reply: Reply) -> int:
        if reply.relay:
            return 3
        return 1 + HMAC_SIZE + (0 if reply.holds is None else attribution.DATA_SIZE)

    def seal(self, reply: Reply, old: tuple[int, ...] | None, max_size: int,
             rng: random.Random, mutate_bytes: MutateBytes) -> bytes | None:
        """The harness input for `reply`, cut to `max_size` (a cut plaintext is still sealed:
        the HMAC covers what is there). Attribution data that no longer fits is dropped."""
        if reply.relay:
            message, _ = split(reply.body)
            return (bytes((1, reply.erring, reply.damaged)) + message)[:max_size]
        if reply.holds is not None and self._overhead(reply) > max_size:
            reply, old = replace(reply, holds=None), None
        room = max_size - self._overhead(reply)
        if room < 0:
            return None
        body = reply.body[:room]
        packets = [HMAC_SIZE * b"\0"] * (reply.erring + 1)
        packets[reply.erring] = hmac.digest(self.um[reply.erring], body, "sha256") + body
        for hop in range(reply.erring - 1, -1, -1):
            packets[hop] = chacha20(self.ammag[hop + 1], packets[hop + 1])
        packet = chacha20(self.ammag[0], packets[0])
        if reply.holds is None or old is None:
            return b"\0" + packet
        holds = attribution.mutate_holds(reply.holds, rng, mutate_bytes) \
            if rng.randrange(3) == 0 else list(reply.holds)
        stale = attribution.pick_stale(len(holds), rng)
        data = self.sealer.chain(old, holds, stale, packets)
        return b"\x02" + data + packet
