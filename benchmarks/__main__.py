"""`python -m benchmarks [--json] [--quick]`."""

import sys

from benchmarks.run import main

sys.exit(main())
