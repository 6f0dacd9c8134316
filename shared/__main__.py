"""`python -m shared ...` is the cachekeeper command line (see shared/cli.py)."""

import sys

from shared.cli import main

sys.exit(main())
