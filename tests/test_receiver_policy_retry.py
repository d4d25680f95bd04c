"""A refusal for a policy that is off does not poison the store: lnd keeps nothing of an HTLC
refused before it reached an invoice and decides a resend again, so a keysend or spontaneous
AMP refused with accept-keysend / accept-amp off settles when resent with the flag on, and an
HTLC refused for want of an invoice is found once the invoice is added. A replay of an HTLC
that reached an invoice and failed still gets lnd's ResultReplayToCanceled. Both stores, and
`amp receive` on one database run twice."""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from sphinxamp import Accepted, Fail, HopPayload, Receiver, Settle
from sphinxamp._codes import INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS as PERM15
from sphinxamp.cli import main
from sphinxamp.receiver import HtlcState, ResolutionResult, Store
from tests.test_receiver import HEIGHT, keysend_htlc, make_payment
from tests.test_receiver_crash import CLTV, _line, sha256

R = ResolutionResult
PREIMAGE = b"\x07" * 32


def test_keysend_refused_with_the_policy_off_settles_when_it_is_on(store: Store) -> None:
    htlc = keysend_htlc("k", PREIMAGE)
    off = Receiver(store)
    assert off.receive(htlc, now=1.0, height=HEIGHT) == Fail(("k",), PERM15,
                                                             R.INVOICE_NOT_FOUND)
    assert off.receive(htlc, now=2.0, height=HEIGHT) == Fail(("k",), PERM15,
                                                             R.INVOICE_NOT_FOUND)
    on = Receiver(store, accept_keysend=True)
    settled = Settle(None, (("k", PREIMAGE),), 5000)
    assert on.receive(htlc, now=3.0, height=HEIGHT) == settled
    record = store.htlc("k")
    assert record is not None and record.state is HtlcState.SETTLED
    assert on.receive(htlc, now=4.0, height=HEIGHT) == settled  # a replay of the settle
    assert off.receive(htlc, now=5.0, height=HEIGHT) == settled  # stored: not decided again


def test_spontaneous_amp_refused_with_the_policy_off_is_accepted_when_it_is_on(
        store: Store, rng: random.Random) -> None:
    payment = make_payment(rng, [1000, 1000])
    htlc = payment.shards[0].htlc(0)
    assert Receiver(store).receive(htlc, now=1.0, height=HEIGHT) == Fail(
        (0,), PERM15, R.INVOICE_NOT_FOUND)
    on = Receiver(store, accept_amp=True)
    assert on.receive(htlc, now=2.0, height=HEIGHT) == Accepted(0, payment.set_id, 1000, 2000,
                                                                122.0)
    decision = on.receive(payment.shards[1].htlc(1), now=3.0, height=HEIGHT)
    assert isinstance(decision, Settle) and decision.set_id == payment.set_id


def test_an_htlc_refused_for_want_of_an_invoice_finds_it_once_added(
        store: Store, rng: random.Random) -> None:
    rx = Receiver(store)
    payment = make_payment(rng, [1000])
    htlc = payment.shards[0].htlc(0)
    assert rx.receive(htlc, now=1.0, height=HEIGHT) == Fail((0,), PERM15, R.INVOICE_NOT_FOUND)
    rx.add_invoice(now=1.5, payment_addr=payment.payment_addr)
    decision = rx.receive(htlc, now=2.0, height=HEIGHT)
    assert isinstance(decision, Settle) and decision.set_id == payment.set_id


def test_a_failed_htlc_that_reached_an_invoice_is_still_a_replay_to_canceled(
        store: Store, rng: random.Random) -> None:
    """lnd resolveReplayedHtlc: whatever the policy now, it is not decided again."""
    payment = make_payment(rng, [1000, 1000])
    htlc = payment.shards[0].htlc(0)
    on = Receiver(store, accept_amp=True)
    on.receive(htlc, now=0.0, height=HEIGHT)
    on.expire(200.0)  # held, then timed out
    replay = Fail((0,), PERM15, R.REPLAY_TO_CANCELED, payment.set_id)
    assert on.receive(htlc, now=201.0, height=HEIGHT) == replay
    assert Receiver(store).receive(htlc, now=202.0, height=HEIGHT) == replay


def _receive(db: Path, flags: list[str], line: dict[str, Any], monkeypatch: Any,
             capsys: Any) -> dict[str, Any]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(line) + "\n"))
    assert main(["amp", "receive", "--db", str(db), *flags]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_amp_receive_retries_a_keysend_with_the_flag_on(
        tmp_path: Path, monkeypatch: Any, capsys: Any, synchronous: str) -> None:
    line = _line("ks", sha256(PREIMAGE), 1000, HopPayload(1000, CLTV, keysend_preimage=PREIMAGE))
    db, flags = tmp_path / "r.db", ["--synchronous", synchronous]
    first = _receive(db, flags, line, monkeypatch, capsys)
    assert first["decision"] == "fail" and first["reason"] == "invoice_not_found"
    again = _receive(db, [*flags, "--accept-keysend"], line, monkeypatch, capsys)
    assert again == {"decision": "settle", "set_id": None, "payment_addr": None,
                     "amount_msat": 1000, "htlcs": [{"htlc_id": "ks",
                                                     "preimage": PREIMAGE.hex()}]}
