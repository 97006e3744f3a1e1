"""`python -m dx7d.daemon` is the same as the `dx7d` command."""

import sys

from dx7d.daemon.cli import main

sys.exit(main())
