"""``python -m dashboard``: the incident-map command line."""

import sys

from dashboard.cli import main

sys.exit(main())
