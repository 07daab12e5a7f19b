"""`python -m labsim`: the same as the `labsim` command."""

from labsim.cli import main

raise SystemExit(main())
