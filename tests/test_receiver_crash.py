"""The receiver as a process: killed with SIGKILL at random points, restarted on its file.

A workload of AMP sets paying invoices (valid, with a corrupted share, with a shard withheld,
several under one reusable invoice; a corrupted set cancels its own invoice) and keysends is
streamed to `receiver_worker.py` as JSON lines. Each run is
killed: from outside after a random number of answers (plus a random sliver of time, so the
kill lands anywhere in the next decisions), or from inside right before or right after the
commit of its N-th decision. The next run gets what a node would resend after a restart: every
HTLC not yet settled or failed (resent a little later each time), plus a few that were. A last
run sends what is still unresolved and fires the timeouts. Then:

- no shard lost: every HTLC was answered, the database holds every one, and no held HTLC was
  ever accepted anew (its expiry, from its first arrival, never changes);
- no HTLC answered both settled and failed, and a settle or failure, once reported, is
  reported the same way ever after;
- no set settled twice or partially: every settle of a set names exactly its shards with the
  same preimages, and every valid set settled with the preimages derived here from lnd's
  formula; corrupted sets failed whole; sets missing a shard never settled and timed out;
- the invoices: the reusable ones open with the sum of their settled sets paid, the ones a
  corrupted set paid canceled, each valid keysend's settled.

SPHINXAMP_CRASH_ITERATIONS sets the number of killed runs (default 60), SPHINXAMP_CRASH_SEED
the workload and the kill points, for longer soaks.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sphinxamp import AmpRecord, HopPayload, PaymentData
from sphinxamp.receiver import HtlcState, InvoiceKind, InvoiceState, SetState, SqliteStore

WORKER = Path(__file__).resolve().parent / "receiver_worker.py"
ITERATIONS = int(os.environ.get("SPHINXAMP_CRASH_ITERATIONS", "60"))
SEED = int(os.environ.get("SPHINXAMP_CRASH_SEED", "20240607"))
CLTV = 800_000
HEIGHT = 799_900  # 150 blocks left for every HTLC: more than an invoice's 80


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass
class Workload:
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)  # htlc_id -> line object
    preimages: dict[str, bytes] = field(default_factory=dict)  # expected, for settling HTLCs
    sets: dict[str, list[str]] = field(default_factory=dict)  # set_id hex -> htlc ids
    kind: dict[str, str] = field(default_factory=dict)  # set_id hex -> valid/corrupt/partial
    addr_of: dict[str, bytes] = field(default_factory=dict)  # set_id hex -> payment_addr
    keysends: dict[str, bool] = field(default_factory=dict)  # htlc_id -> valid
    invoices: list[bytes] = field(default_factory=list)  # payment_addrs, added by the worker
    reusable: list[bytes] = field(default_factory=list)


def _line(htlc_id: str, phash: bytes, amount: int, payload: HopPayload) -> dict[str, Any]:
    return {"htlc_id": htlc_id, "payment_hash": phash.hex(), "amount_msat": amount,
            "cltv_expiry": CLTV + 50, "payload": payload.encode().hex(), "now": 0.0,
            "height": HEIGHT}


def render(line: dict[str, Any], run: int) -> str:
    """The line as run `run` sends it: a resent HTLC arrives a little later each time, so a
    shard lost after it was accepted would come back with another expiry."""
    return json.dumps({**line, "now": line["now"] + run / 1000})


def _add_set(w: Workload, rng: random.Random, kind: str, addr: bytes) -> None:
    n = rng.randint(1, 5) if kind == "valid" else rng.randint(2, 5)
    root, set_id = rng.randbytes(32), rng.randbytes(32)
    shares = [rng.randbytes(32) for _ in range(n - 1)]
    last = int.from_bytes(root, "big")
    for share in shares:
        last ^= int.from_bytes(share, "big")
    shares.append(last.to_bytes(32, "big"))
    amounts = [rng.randint(1, 50_000) for _ in shares]
    key = set_id.hex()
    w.sets[key], w.kind[key], w.addr_of[key] = [], kind, addr
    for k, (share, amount) in enumerate(zip(shares, amounts, strict=True)):
        index = rng.getrandbits(32)
        preimage = sha256(root + share + index.to_bytes(4, "big"))
        sent_share = share if not (kind == "corrupt" and k == 0) else sha256(share)
        if kind == "partial" and k == n - 1:
            continue  # withheld: the set can never complete
        htlc_id = f"{key[:8]}-{k}"
        payload = HopPayload(amount, CLTV, payment_data=PaymentData(addr, sum(amounts)),
                             amp=AmpRecord(sent_share, set_id, index))
        w.lines[htlc_id] = _line(htlc_id, sha256(preimage), amount, payload)
        w.preimages[htlc_id] = preimage
        w.sets[key].append(htlc_id)


def make_workload(rng: random.Random) -> Workload:
    w = Workload()
    addrs = [rng.randbytes(32) for _ in range(6)]  # reused: reusable invoices
    w.invoices, w.reusable = list(addrs), list(addrs)
    # About three shards per killed run: more runs, more sets.
    extra = ITERATIONS // 10 + 1
    for kind, count in (("valid", ITERATIONS), ("corrupt", extra), ("partial", extra)):
        for _ in range(count):
            # A corrupted set cancels its invoice: it gets one of its own.
            addr = rng.randbytes(32) if kind == "corrupt" else rng.choice(addrs)
            if kind == "corrupt":
                w.invoices.append(addr)
            _add_set(w, rng, kind, addr)
    for k in range(8):
        preimage, valid = rng.randbytes(32), k % 4 != 3
        phash = sha256(preimage) if valid else rng.randbytes(32)
        payload = HopPayload(1000, CLTV, keysend_preimage=preimage)
        w.lines[f"ks-{k}"] = _line(f"ks-{k}", phash, 1000, payload)
        w.preimages[f"ks-{k}"], w.keysends[f"ks-{k}"] = preimage, valid
    order = list(w.lines)
    rng.shuffle(order)  # interleave the sets; arrival times follow the order
    w.lines = {h: {**w.lines[h], "now": 1000 + i} for i, h in enumerate(order)}
    return w


@dataclass
class Reports:
    by_htlc: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    settles: list[dict[str, Any]] = field(default_factory=list)

    def add(self, decision: dict[str, Any]) -> None:
        if decision.get("decision") == "settle":
            self.settles.append(decision)
            ids = [h["htlc_id"] for h in decision["htlcs"]]
        elif decision.get("decision") == "fail":
            ids = decision["htlc_ids"]
        else:
            assert decision.get("decision") == "accepted", decision
            ids = [decision["htlc_id"]]
        for htlc_id in ids:
            self.by_htlc.setdefault(htlc_id, []).append(decision)


def run_worker(db: Path, lines: list[str], rng: random.Random | None, crash: list[str],
               reports: Reports, invoices: list[bytes] = ()) -> int:  # type: ignore[assignment]
    """One worker run fed `lines`; `rng` set: killed after a random number of answers."""
    adds = [arg for addr in invoices for arg in ("--invoice", addr.hex())]
    proc = subprocess.Popen([sys.executable, str(WORKER), str(db), *adds, *crash],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    assert json.loads(proc.stdout.readline()) == {"ready": True}

    def feed() -> None:
        try:
            proc.stdin.write("".join(line + "\n" for line in lines))  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    kill_after = None if rng is None else rng.randint(0, 6)
    if kill_after == 0:
        proc.kill()
    for answered, text in enumerate(proc.stdout, 1):
        if not text.endswith("\n"):
            break  # cut short by the kill: not an acknowledgement
        reports.add(json.loads(text))
        if answered == kill_after:
            time.sleep(rng.random() * 0.003)  # type: ignore[union-attr]
            proc.kill()
    writer.join()
    proc.stdout.close()
    return proc.wait()


def unresolved(work: Workload, reports: Reports) -> list[str]:
    """What a node resends after a restart: HTLCs never answered, or answered only as held
    (a held HTLC may have settled or failed with its set in an answer that was lost)."""
    return [h for h in work.lines if h not in reports.by_htlc
            or reports.by_htlc[h][-1]["decision"] == "accepted"]


def test_receiver_survives_sigkill_anywhere(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    work = make_workload(rng)
    db, reports = tmp_path / "receiver.db", Reports()
    kills = 0
    for run in range(1, ITERATIONS + 1):
        pending = unresolved(work, reports)
        resolved = sorted(set(reports.by_htlc) - set(pending))
        again = rng.sample(resolved, min(3, len(resolved)))
        lines = [render(work.lines[h], run) for h in pending + again]
        mode = rng.choice(("outside", "before-commit", "after-commit"))
        crash = [] if mode == "outside" else ["--crash-at", str(rng.randint(1, 6)),
                                              "--crash-when", mode]
        status = run_worker(db, lines, rng if mode == "outside" else None, crash, reports,
                            work.invoices)
        kills += status == -9
    assert kills >= ITERATIONS * 2 // 3, f"only {kills} of {ITERATIONS} runs were killed"
    # Only what is unresolved is sent: a shard lost after its answer stays lost.
    rest = [render(work.lines[h], ITERATIONS + 1) for h in unresolved(work, reports)]
    # The tick fires the hold timeouts, before any invoice's 30 days run out.
    assert run_worker(db, [*rest, json.dumps({"tick": 1e6})], None, [], reports,
                      work.invoices) == 0
    check_database(work, db)
    check_reports(work, reports)
    # Every HTLC sent once more: each is answered as it was last answered.
    again = [render(line, ITERATIONS + 2) for line in work.lines.values()]
    assert run_worker(db, again, None, [], reports) == 0
    check_reports(work, reports)


def _outcome(decision: dict[str, Any]) -> tuple[Any, ...]:
    if decision["decision"] == "accepted":
        return ("accepted", decision["expires_at"])
    if decision["decision"] == "fail" and decision["reason"] == "replay_to_canceled":
        # A resent HTLC that failed after reaching its invoice: lnd's ResultReplayToCanceled
        # (invoices/update.go resolveReplayedHtlc), whatever the first failure was.
        return ("fail", "replayed")
    if decision["decision"] == "fail":
        return ("fail", decision["failure_code"], decision["reason"])
    return ("settle", json.dumps(decision, sort_keys=True))


def check_reports(work: Workload, reports: Reports) -> None:
    assert set(reports.by_htlc) == set(work.lines), "an HTLC was never answered"
    for htlc_id, seen in reports.by_htlc.items():
        outcomes = [_outcome(d) for d in seen]
        held = {o for o in outcomes if o[0] == "accepted"}
        assert len(held) <= 1, f"{htlc_id} was accepted again: lost after its answer"
        final = [o for o in outcomes if o[0] != "accepted" and o != ("fail", "replayed")]
        assert len(set(final)) <= 1, f"{htlc_id} answered {set(final)}"
        if ("fail", "replayed") in outcomes:  # only ever after a failure, maybe a lost one
            assert not any(o[0] == "settle" for o in outcomes), htlc_id
        first_final = next((i for i, o in enumerate(outcomes) if o[0] != "accepted"), None)
        if first_final is not None:
            assert all(o[0] != "accepted" for o in outcomes[first_final:]), htlc_id
    by_set: dict[str, set[str]] = {}
    for settle in reports.settles:
        if settle["set_id"] is not None:
            by_set.setdefault(settle["set_id"], set()).add(json.dumps(settle, sort_keys=True))
    for set_id, variants in by_set.items():
        assert len(variants) == 1, f"set {set_id} settled in {len(variants)} different ways"
    for set_id, members in work.sets.items():
        kind, finals = work.kind[set_id], [_final(reports, h) for h in members]
        if kind == "valid":
            (settle,) = (json.loads(v) for v in by_set[set_id])
            assert sorted(h["htlc_id"] for h in settle["htlcs"]) == sorted(members)
            for h in settle["htlcs"]:
                assert bytes.fromhex(h["preimage"]) == work.preimages[h["htlc_id"]]
        else:
            assert set_id not in by_set, f"{kind} set {set_id} settled"
            want = {"corrupt": (0x400F, "reconstruction_failed"), "partial": (23, "mpp_timeout")}
            # A failure whose answer a kill lost is answered "replayed" when resent.
            assert {f[1:] for f in finals} <= {want[kind], ("replayed",)}, (kind, finals)
    for htlc_id, valid in work.keysends.items():
        last = _final(reports, htlc_id)
        assert last[0] == ("settle" if valid else "fail"), (htlc_id, last)


def _final(reports: Reports, htlc_id: str) -> tuple[Any, ...]:
    """The first settle or failure reported (a replay answers a failure differently)."""
    outcomes = [_outcome(d) for d in reports.by_htlc[htlc_id]]
    return next(o for o in outcomes if o[0] != "accepted")


def check_database(work: Workload, db: Path) -> None:
    store = SqliteStore(str(db))
    try:
        for htlc_id in work.lines:
            assert store.htlc(htlc_id) is not None, f"{htlc_id} lost"
        paid: dict[bytes, int] = {}
        for set_id, members in work.sets.items():
            record = store.amp_set(bytes.fromhex(set_id))
            assert record is not None
            valid = work.kind[set_id] == "valid"
            assert record.state is (SetState.SETTLED if valid else
                                    SetState.FAILED if work.kind[set_id] == "corrupt" else
                                    SetState.OPEN)
            for htlc_id in members:
                stored = store.htlc(htlc_id)
                assert stored is not None
                assert stored.state is (HtlcState.SETTLED if valid else HtlcState.FAILED)
                if not valid:
                    assert stored.reason == ("reconstruction_failed" if work.kind[set_id] ==
                                             "corrupt" else "mpp_timeout")
                if valid:
                    assert stored.preimage == work.preimages[htlc_id]
                    paid[record.payment_addr] = paid.get(record.payment_addr, 0) + (
                        stored.amount_msat)
        for addr, amount in paid.items():
            assert store.amount_paid(addr) == amount
        states = {i.ref: i.state for i in store.invoices()}
        for addr in work.invoices:
            corrupt = addr not in work.reusable
            assert states[addr] is (InvoiceState.CANCELED if corrupt else InvoiceState.OPEN)
        for htlc_id, valid in work.keysends.items():
            phash = bytes.fromhex(work.lines[htlc_id]["payment_hash"])
            invoice = store.invoice(InvoiceKind.KEYSEND, phash)
            assert (invoice is not None and invoice.state is InvoiceState.SETTLED) is valid
    finally:
        store.close()
