"""``python -m texstyle``: the same as the ``texstyle`` command."""

import sys

from .cli import main

sys.exit(main())
