"""`python -m sphinxamp`: the same command as the `sphinxamp` entry point."""

import sys

from sphinxamp.cli import main

sys.exit(main())
