"""`python -m forklift_core` runs the CLI."""

from forklift_core.cli import main

raise SystemExit(main())
