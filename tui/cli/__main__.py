"""`python -m aishell.tui.cli`: the same as the `aishell` console script."""

import sys

from aishell.tui.cli import main

sys.exit(main())
