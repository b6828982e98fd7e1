"""`python -m bot` is the same as the `kabar` console script."""

import sys

from bot.cli import main

sys.exit(main())
