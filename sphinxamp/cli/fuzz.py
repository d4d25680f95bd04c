"""`sphinxamp fuzz corpus`: seeds for another implementation's own fuzzer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sphinxamp.cli._common import Subparsers, emit_json, output_dir
from sphinxamp.cli._options import (
    add_assoc_data,
    add_json_flag,
    add_node_key,
    int_in,
    read_assoc_data,
    read_node_key,
)
from sphinxamp.conformance.corpus import FORMATS, corpus_inputs, write_corpus

DESCRIPTION = """\
Write COUNT onions (1366 bytes each) whose HMAC verifies for the node holding --node-key
under --assoc-data, carrying payloads that are valid, at a boundary (BigSize steps of the
length, the ends of the routing area) or malformed (mutated TLV, one BOLT 4 payload rule
broken, a bad frame). One file per input, named <index>-<kind>-<sha256 prefix>: the layout
libFuzzer and cargo-fuzz read as a corpus directory; --format go writes Go's native fuzzing
corpus entries (put them in testdata/fuzz/FuzzXxx/). A target's own fuzzer then reaches its
payload parser past the HMAC check.
"""


# Each input is an onion of 1366 bytes: 100,000 of them is 137 MB.
MAX_COUNT = 100_000


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("fuzz", help="fuzzing seeds for other implementations")
    sub = group.add_subparsers(dest="fuzz_command", metavar="ACTION", required=True)
    corpus = sub.add_parser("corpus", help="onions that pass a node's HMAC check",
                            description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    add_node_key(corpus, "the target node's 32-byte private key", required=True)
    add_assoc_data(corpus, "associated data (the payment hash)", required=True)
    corpus.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder for the inputs: made if absent; one already holding "
                        "files only with --force")
    corpus.add_argument("--force", action="store_true",
                        help="write into an --out folder that already holds files")
    corpus.add_argument("--count", type=int_in(1, MAX_COUNT), default=64, metavar="N",
                        help=f"how many inputs, 1 to {MAX_COUNT} (default 64)")
    corpus.add_argument("--seed", type=int_in(0, 2**64 - 1), default=1,
                        help="seed of the generator, 0 to 2^64-1 (default 1)")
    corpus.add_argument("--format", choices=FORMATS, default="raw")
    add_json_flag(corpus)
    corpus.set_defaults(handler=run_corpus)


def run_corpus(args: argparse.Namespace) -> int:
    node_key, assoc = read_node_key(args), read_assoc_data(args)
    assert node_key is not None and assoc is not None  # required options
    inputs = corpus_inputs(node_key, assoc, args.count, args.seed)
    written = write_corpus(output_dir(args.out, "out", force=args.force), inputs, args.format)
    if args.json:
        emit_json({"out": str(args.out), "files": [p.name for p in written]})
    else:
        sys.stdout.write(f"{len(written)} inputs in {args.out}\n")
    return 0
