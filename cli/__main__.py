"""`python -m cli ...` is the cachekeeper command line (see cli/main.py)."""

import sys

from cli.main import main

sys.exit(main())
