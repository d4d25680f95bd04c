"""`python -m sphinxamp`: the same command as the `sphinxamp` entry point."""

import sys

from .cli import main

sys.exit(main())
