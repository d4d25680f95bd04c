"""`python -m sphinxamp.conformance [--profile bolt|lnd]`: the reference adapter, as
`sphinxamp conformance adapter` runs it, without loading the rest of the command line."""

from __future__ import annotations

import sys

from sphinxamp.conformance.reference import serve

if __name__ == "__main__":
    profile = sys.argv[2] if sys.argv[1:2] == ["--profile"] and len(sys.argv) > 2 else "bolt"
    sys.exit(serve(sys.stdin, sys.stdout, profile))
