"""`python -m devhost`: run the local Functions host."""

from devhost.cli import main

raise SystemExit(main())
