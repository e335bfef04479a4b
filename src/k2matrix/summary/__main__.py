"""``python -m k2matrix.summary RUN [--baseline RUN] [--format ...]``."""

import sys

from k2matrix.summary.command import main

sys.exit(main())
