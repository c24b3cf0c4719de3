"""`python -m kconform` runs the CLI (the same as the `kconform` script)."""

import sys

from kconform.cli import main

sys.exit(main())
