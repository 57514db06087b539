"""``python -m tutorkit``."""

import sys

from tutorkit.cli import main

sys.exit(main())
