"""The runner against small fake adapters: an answer line without end is cut at the bound and
reported, and an answer given twice is blamed on the id it repeats, not on the next case."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sphinxamp.conformance import AdapterProcess, load_suites, run_cases
from sphinxamp.conformance.adapter import GARBAGE
from sphinxamp.conformance.run import ADAPTER_ERROR, AGREE


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text("import json, sys\n" + body)
    return [sys.executable, str(path)]


HELLO = ('    if req.get("op") == "hello":\n'
         '        print(json.dumps({"id": req["id"], "protocol": "sphinxamp-conformance/2",'
         ' "ops": ["bigsize_decode"]}), flush=True); continue\n')
LOOP = "for line in sys.stdin:\n    req = json.loads(line)\n" + HELLO
# A correct bigsize_decode answer, by the reference's own reader.
ANSWER = ("    from sphinxamp.wire._bigsize import decode_bigsize\n"
          "    value, end = decode_bigsize(bytes.fromhex(req['bytes']), 0)\n"
          "    out = json.dumps({'id': req['id'], 'value': value, 'length': end})\n")


def bigsize_cases(count: int):  # type: ignore[no-untyped-def]
    return [c for c in load_suites(["valid"], seed=1)[0] if c.op == "bigsize_decode"][:count]


def test_an_endless_answer_line_is_cut_at_the_bound(tmp_path: Path) -> None:
    """64 KiB chunks without a newline, forever: the reader stops at `max_line` and reports
    garbage at once, instead of buffering until the deadline (or the memory) runs out."""
    body = LOOP + "    chunk = 'x' * 65536\n    while True:\n        sys.stdout.write(chunk)\n"
    start = time.monotonic()
    with AdapterProcess(script(tmp_path, "flood", body), timeout=20,
                        max_line=1 << 20) as adapter:
        reply = adapter.request({"id": 1, "op": "bigsize_decode", "bytes": "01"})
    assert reply.problem == GARBAGE and "longer than 1048576 bytes" in reply.detail
    assert time.monotonic() - start < 15


def test_lines_split_across_chunks_are_joined(tmp_path: Path) -> None:
    """An answer longer than one read chunk, and two answers in one chunk, read whole."""
    body = LOOP + ANSWER + "    print(' ' * 200000 + out, flush=True)\n"
    with AdapterProcess(script(tmp_path, "long", body), timeout=20) as adapter:
        replies = [adapter.request({"id": i, "op": "bigsize_decode", "bytes": "fd0100"})
                   for i in range(3)]
    assert [r.problem for r in replies] == [None] * 3
    assert [r.answer["value"] for r in replies if r.answer] == [256] * 3


def test_a_duplicated_answer_is_blamed_on_its_own_id(tmp_path: Path) -> None:
    """The first case is answered twice: that case is the adapter error, and the next case,
    which reads the duplicate before its own answer, still agrees."""
    body = LOOP + ANSWER + ("    print(out, flush=True)\n"
                            "    if req['id'] == 0:\n        print(out, flush=True)\n")
    cases = bigsize_cases(3)
    with AdapterProcess(script(tmp_path, "twice", body), timeout=10) as adapter:
        report = run_cases(cases, adapter)
    assert [o.status for o in report.outcomes] == [ADAPTER_ERROR, AGREE, AGREE]
    assert "answered twice" in report.outcomes[0].detail
    assert not report.ok


def test_a_duplicated_hello_is_a_note(tmp_path: Path) -> None:
    body = LOOP.replace("flush=True); continue", "flush=True); print(json.dumps({'id': "
                        "req['id'], 'ops': []}), flush=True); continue") + ANSWER + \
        "    print(out, flush=True)\n"
    with AdapterProcess(script(tmp_path, "hello2", body), timeout=10) as adapter:
        report = run_cases(bigsize_cases(2), adapter)
    assert [o.status for o in report.outcomes] == [AGREE, AGREE]
    assert any("'hello' answered twice" in n for n in report.notes), report.notes
