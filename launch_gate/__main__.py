"""`python -m launch_gate` is the `launch-gate` command."""

from launch_gate.cli import main

raise SystemExit(main())
