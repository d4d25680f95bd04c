import sys

from sphinxamp.cli import main

sys.exit(main())
