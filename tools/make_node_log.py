"""Write examples/node.log: a node log holding one message of each type `sphinxamp explain
--log` reads, among lines it skips, in Core Lightning's and lnd's formats.

    python tools/make_node_log.py           # rewrite the file
    python tools/make_node_log.py --check   # exit 1 when the file is stale
    python tools/make_node_log.py --seeds   # also the seeds of fuzz/corpus/{log,bolt12}

The messages come from the vectors, so the keys that explain them are the vectors' keys:
- `update_add_htlc` carries the BOLT 4 onion of vectors/bolt04-onion.json (peel-hop-1), for
  node key 41…41 with payment hash 42…42;
- an `onion_message` from vectors/bolt04-blinded-onion-message.json (peel-alice), for the
  same node key 41…41;
- an `onion_message` built here to node key 41…41, whose final payload holds a BOLT 12
  `invoice_request` (its signature is 64 placeholder bytes: explain does not verify it);
- `update_fail_htlc` and `update_fulfill_htlc` with the return packet and attribution data
  of vectors/bolt04-failure-attribution.json, for its five shared secrets;
- an `update_fail_malformed_htlc`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sphinxamp import (  # noqa: E402  (the checkout first on the path)
    EncryptedData,
    OnionMessagePayload,
    build_onion_message,
    create_blinded_path,
    encode_message,
    public_key,
)
from sphinxamp.messages import (  # noqa: E402
    UpdateAddHtlc,
    UpdateFailHtlc,
    UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
)

TARGET = REPO / "examples" / "node.log"
NODE_KEY = bytes([0x41] * 32)
PEER = public_key(bytes([0x42] * 32)).hex()
CHANNEL = bytes(range(32))


def _case(name: str, case_id: str) -> dict[str, object]:
    cases = json.loads((REPO / "vectors" / name).read_text())["cases"]
    found: dict[str, object] = next(c for c in cases if c["id"] == case_id)
    return found


def _tlv(*records: tuple[int, bytes]) -> bytes:
    # Types below 253 and values below 253 bytes: one-byte BigSize type and length.
    return b"".join(bytes([t, len(v)]) + v for t, v in records)


def invoice_request() -> bytes:
    """BOLT 12 › TLV Fields for `invoice_request`: metadata, an offer's description and
    issuer, the amount, the payer's key, a note, a path to reply along, a signature."""
    reply = create_blinded_path(bytes([0x51] * 32), [
        (public_key(bytes([0x43] * 32)), EncryptedData(path_id=b"\x07" * 16))])
    return _tlv(
        (0, bytes(range(16))),
        (10, b"a coffee"),
        (22, public_key(bytes([0x44] * 32))),
        (82, (100_000).to_bytes(3, "big")),
        (88, public_key(bytes([0x45] * 32))),
        (89, b"thanks!"),
        (90, reply.encode()),
        (240, bytes([0x5A] * 64)),
    )


def bolt12_message() -> bytes:
    path = create_blinded_path(bytes([0x52] * 32), [
        (public_key(NODE_KEY), EncryptedData(path_id=b"\x09" * 32))])
    built = build_onion_message(bytes([0x53] * 32), path,
                                OnionMessagePayload(invoice_request=invoice_request()))
    return built.to_bytes()


def messages() -> dict[str, bytes]:
    peel = _case("bolt04-onion.json", "peel-hop-1")
    fail = _case("bolt04-failure-attribution.json", "returning-errors")
    success = _case("bolt04-failure-attribution.json", "returning-success")
    fail_hop = next(h for h in fail["expect"]["hops"] if h["hop_index"] == 0)  # type: ignore[index]
    ok_hop = next(h for h in success["expect"]["hops"] if h["hop_index"] == 0)  # type: ignore[index]
    om = _case("bolt04-blinded-onion-message.json", "peel-alice")
    return {
        "add": encode_message(UpdateAddHtlc(
            CHANNEL, 0, 15_000, bytes.fromhex(str(peel["associated_data"])), 800_100,
            bytes.fromhex(str(peel["onion"])))),
        "onion_message": bytes.fromhex(str(om["onion_message"])),
        "bolt12": bolt12_message(),
        "fail": encode_message(UpdateFailHtlc(
            CHANNEL, 0, bytes.fromhex(fail_hop["reason"]),
            bytes.fromhex(fail_hop["attribution_data"]))),
        "fulfill": encode_message(UpdateFulfillHtlc(
            CHANNEL, 1, bytes([0x61] * 32), bytes.fromhex(ok_hop["attribution_data"]))),
        "malformed": encode_message(UpdateFailMalformedHtlc(
            CHANNEL, 2, bytes([0x62] * 32), 0xC005)),
    }


def render() -> str:
    m = {k: v.hex() for k, v in messages().items()}
    cln = f"{PEER}-channeld-chan#1"
    lnd_peer = f"Peer({PEER}@127.0.0.1:9735)"
    return "\n".join((
        "2026-12-07T10:00:00.001Z INFO    lightningd: Server started with public key "
        f"{public_key(NODE_KEY).hex()}",
        f"2026-12-07T10:00:01.100Z DEBUG   {cln}: peer_in WIRE_UPDATE_ADD_HTLC",
        f"2026-12-07T10:00:01.100Z {cln}: [IN] {m['add']}",
        f"2026-12-07 10:00:01.250 [DBG] PEER: {lnd_peer}: Sending UpdateAddHTLC(chan_id="
        f"{CHANNEL.hex()}, id=0, amt=15000 mSAT, expiry=800100, hash=4242…4242)",
        f"2026-12-07T10:00:01.300Z {PEER}-connectd: [OUT] 00120004000000040000",
        f"2026-12-07T10:00:02.000Z {PEER}-connectd: [IN] {m['onion_message']}",
        f"2026-12-07T10:00:02.500Z {PEER}-connectd: [IN] {m['bolt12']}",
        "2026-12-07 10:00:03.000 [INF] HSWC: Switch: received settle for payment_hash="
        "4242424242424242424242424242424242424242424242424242424242424242",
        f"2026-12-07T10:00:03.100Z DEBUG   {cln}: peer_in WIRE_UPDATE_FAIL_HTLC",
        f"2026-12-07T10:00:03.100Z {cln}: [IN] {m['fail']}",
        f"2026-12-07T10:00:04.200Z {cln}: [IN] {m['fulfill']}",
        f"2026-12-07 10:00:04.300 [DBG] PEER: {lnd_peer}: Received UpdateFulfillHTLC(chan_id="
        f"{CHANNEL.hex()}, id=1, pre_image=6161…6161)",
        f"2026-12-07T10:00:05.000Z {cln}: [OUT] {m['malformed']}",
        "2026-12-07T10:00:06.000Z UNUSUAL lightningd: this line names no message",
        "",
    ))


def write_seeds() -> None:
    """fuzz_log seeds: each line of the log, the whole log, prefixes alone; fuzz_bolt12
    seeds (stream selector byte ‖ stream): the invoice_request whole and cut, as each
    stream."""
    log = REPO / "fuzz" / "corpus" / "log"
    text = render()
    seeds = {"seed-log": text, "seed-prefixes": "2026-12-07T10:00:00.000Z DEBUG   x: [IN] \n"
             "2026-12-07 10:00:00.000 [DBG] PEER: Peer(x): Received 0080\n"}
    seeds.update({f"seed-line-{i:02}": line for i, line in enumerate(text.splitlines(), 1)})
    for name, body in seeds.items():
        (log / name).write_text(body)
    request = invoice_request()
    bolt12 = REPO / "fuzz" / "corpus" / "bolt12"
    for selector, stream in enumerate(("invoice_request", "invoice", "invoice_error")):
        (bolt12 / f"seed-{stream}").write_bytes(bytes([selector]) + request)
        (bolt12 / f"seed-{stream}-cut").write_bytes(bytes([selector]) + request[:-40])
    (bolt12 / "seed-invoice_error-records").write_bytes(b"\x02" + _tlv((1, b"\x58"), (5, b"no")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    parser.add_argument("--seeds", action="store_true",
                        help="also write the seeds of fuzz/corpus/log and fuzz/corpus/bolt12")
    args = parser.parse_args()
    if args.seeds:
        write_seeds()
    text = render()
    if args.check:
        stale = not TARGET.exists() or TARGET.read_text() != text
        if stale:
            print(f"{TARGET.relative_to(REPO)} is stale: run {Path(__file__).name}")
        return 1 if stale else 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
