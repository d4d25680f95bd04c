"""Differential findings grouped into classes: the class of a finding, one shortest reproducer
kept per class, and the summary table."""

from __future__ import annotations

from sphinxamp.conformance.classes import Classes, FindingClass, classify, outcome, table
from sphinxamp.conformance.protocol import ACCEPT_REFUSE, MUST, OUTPUT, SHOULD, Difference

REFUSED = {"error": {"failure_code": 0x4016, "tlv_type": 2, "offset": 0, "message": "m1",
                     "reason": "payload_too_short"}}
ACCEPTED = {"payload": "00", "next_onion": None}
ACCEPT_DIFF = Difference(ACCEPT_REFUSE, "error", "accepted", MUST)


def test_outcome_in_a_word() -> None:
    assert outcome(ACCEPTED) == "accepts"
    assert outcome(REFUSED) == "refuses 0x4016"
    assert outcome({"error": {"failure_code": None, "message": "x"}}) == "refuses"
    assert outcome(None, "timeout") == "adapter timeout"


def test_the_class_is_op_rule_and_both_outcomes() -> None:
    cls = classify("onion_peel", REFUSED, ACCEPTED, difference=ACCEPT_DIFF)
    assert cls == FindingClass("onion_peel", "payload_too_short", "refuses 0x4016", "accepts",
                               MUST)
    # Messages, offsets and output bytes vary with the input: they do not make a new class.
    other = {"error": {**REFUSED["error"], "offset": 9, "message": "m2"}}
    assert classify("onion_peel", other, {"payload": "ff", "next_onion": "00"},
                    difference=ACCEPT_DIFF) == cls
    # Where sphinxamp accepts, the difference names the rule's place.
    out = classify("onion_build", {"onion": "00"}, {"onion": "01"},
                   difference=Difference(OUTPUT, "onion", "outputs differ"))
    assert (out.rule, out.expected, out.got) == ("output:onion", "accepts", "accepts")
    crash = classify("onion_peel", ACCEPTED, None, problem="crashed")
    assert (crash.rule, crash.got, crash.grade) == ("adapter", "adapter crashed", "")
    assert len({cls.key, out.key, crash.key}) == 3 and len(cls.key) == 16


def test_one_shortest_reproducer_per_class() -> None:
    classes = Classes()
    a = FindingClass("onion_peel", "payload_too_short", "refuses 0x4016", "accepts", MUST)
    b = FindingClass("bigsize_decode", "non_canonical", "refuses", "accepts", SHOULD)
    # Written: the first of a class, then only a shorter input of the same class.
    assert [classes.add(a, x) for x in (b"xxxx", b"yyyyy", b"zzzz", b"ww", b"vvv")] == [
        True, False, False, True, False]
    assert classes.add(b, b"\xfd\x00\x01")
    assert not classes.add(b, b"\xfd\x00\x02")
    assert classes.seen[a].shortest == b"ww" and classes.seen[a].count == 5
    assert classes.findings == 7
    rows = classes.rows()
    assert [(r["op"], r["count"], r["shortest"]) for r in rows] == [
        ("onion_peel", 5, 2), ("bigsize_decode", 2, 3)]


def test_summary_table() -> None:
    classes = Classes()
    classes.add(FindingClass("onion_peel", "unknown_version", "refuses 0xc004", "accepts",
                             MUST), b"\x01" * 1366)
    text = table(classes.rows())
    head, row = text.splitlines()
    assert head.split() == ["count", "grade", "op", "rule", "sphinxamp", "adapter",
                            "shortest", "class"]
    assert row.split()[:5] == ["1", "MUST", "onion_peel", "unknown_version", "refuses"]
    assert "1366 B" in row
