"""``python -m feedsite``."""

import sys

from feedsite.cli import main

sys.exit(main())
